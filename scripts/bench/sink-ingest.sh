#!/usr/bin/env bash
# History sink ingest and replay speed (release build):
#   1. the pricer publishes a backlog of N quotes (500 symbols, as fast as it can) to an
#      8-partition `prices` topic on the embedded broker;
#   2. `tickstream sink` drains it into SQLite: quotes/s stored, timed from its first stored
#      row to the last (group join excluded);
#   3. beside it, plain batched GRDB inserts of the same rows into the same table and indexes
#      (`tickstream perf insert`: one prepared statement, 5,000 rows per transaction, WAL,
#      synchronous=NORMAL, no candles, no offsets);
#   4. `tickstream replay --speed max` of the whole history to a topic and to stdout (jsonl).
# Usage: scripts/bench/sink-ingest.sh [QUOTES]   (default 1000000)
#   SCRATCH_PATH=.build-foo scripts/bench/sink-ingest.sh   uses another SwiftPM scratch path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
N="${1:-1000000}"
PORT="${PORT:-$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}"
SCRATCH="${SCRATCH_PATH:-${SCRATCH:-.build}}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

swift build -c release --scratch-path "$SCRATCH" --product tickstream >/dev/null
BIN="$ROOT/$SCRATCH/release/tickstream"
"$BIN" broker --port $PORT --data-dir "$WORK/broker" --log-level warning &
BROKER=$!
sleep 1
kill -0 $BROKER 2>/dev/null || { echo "the broker did not start on 127.0.0.1:$PORT" >&2; exit 1; }

echo "tickstream sink ingest, $N quotes, 500 symbols, 8 partitions, release build, $(nproc) cores"
"$BIN" pricer --bootstrap 127.0.0.1:$PORT --count "$N" --rate 10000000 --symbols 500 --quiet --log-level warning

DB="$WORK/history.sqlite"
"$BIN" sink --bootstrap 127.0.0.1:$PORT --db "$DB" --quiet --log-level warning > "$WORK/sink.out" &
SINK=$!
python3 - "$DB" "$N" <<'PY'
import os, sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
while not os.path.exists(db):
    time.sleep(0.05)
con = sqlite3.connect(db, timeout=30)
def count():
    while True:
        try:
            return con.execute("SELECT count(*) FROM quotes").fetchone()[0]
        except sqlite3.OperationalError:
            time.sleep(0.05)
first = 0
while first == 0:
    first = count(); t0 = time.time()
    time.sleep(0.02)
last = first
while last < n:
    time.sleep(0.05)
    last = count()
t1 = time.time()
print(f"{'sink: quotes stored (exactly-once path)':<46} {(last - first) / (t1 - t0):>12,.0f} quotes/s  ({last - first} in {t1 - t0:.2f} s)")
PY
kill -TERM $SINK; wait $SINK || true
sed 's/^/  /' "$WORK/sink.out"

"$BIN" perf insert --from "$DB" --to "$WORK/plain.sqlite" --batch 5000 --log-level warning

echo "replay --speed max:"
"$BIN" replay --db "$DB" --bootstrap 127.0.0.1:$PORT --speed max --to-topic prices.replay --log-level warning | sed 's/^/  /'
"$BIN" replay --db "$DB" --speed max --format jsonl --log-level warning 2>&1 >/dev/null | sed 's/^/  /'
