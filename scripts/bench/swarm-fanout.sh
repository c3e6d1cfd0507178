#!/usr/bin/env bash
# Fan-out: the broker, the pricer at RATE quotes/s over 500 symbols, and a swarm of
# N Kafka clients (each its own consumer and connection, watchlists of 20) for
# DURATION, once per client count. Prints deliveries/s, end-to-end latency
# percentiles (receive time − the pricer's ts), gaps/duplicates, and the peak RSS of
# the swarm's worker processes and of the broker (sampled every second).
# Usage: scripts/bench/swarm-fanout.sh [CLIENTS...]   (default: 500 2000)
#   RATE=1000 DURATION=30s PROCESSES=2 SCRATCH_PATH=.build (release build there)
#   SWARM_ARGS="--fetch-min-bytes 4096 --fetch-max-wait 100ms" (extra swarm flags)
#   VIA=ws: the clients are WebSockets to one `tickstream gateway` (started here on
#   loopback port GATEWAY_PORT against the same broker) instead of Kafka consumers;
#   the last column is then the gateway's peak RSS, and `conflated` counts quotes the
#   gateway skipped on purpose for clients that read too slowly (not gaps).
#   GATEWAY_ARGS="--queue-bound 64" (extra gateway flags)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
COUNTS=("$@")
[ ${#COUNTS[@]} -eq 0 ] && COUNTS=(500 2000)
RATE="${RATE:-1000}"
DURATION="${DURATION:-30s}"
PROCESSES="${PROCESSES:-2}"
SCRATCH="${SCRATCH_PATH:-.build}"
PORT="${PORT:-39192}"
VIA="${VIA:-kafka}"
GATEWAY_PORT="${GATEWAY_PORT:-39180}"
WORK="$(mktemp -d)"
BROKER_PID=""
PRICER_PID=""
GATEWAY_PID=""
cleanup() {
    for pid in $GATEWAY_PID $PRICER_PID $BROKER_PID; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

swift build -c release --scratch-path "$SCRATCH" --product tickstream >/dev/null
BIN="$ROOT/$SCRATCH/release/tickstream"

# Resident KiB of a process; 0 once it is gone (or a zombie, which has no VmRSS).
rss_kib() { local kib; kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || true); echo "${kib:-0}"; }

"$BIN" broker --port "$PORT" --data-dir "$WORK/data" --log-level error 2> "$WORK/broker.log" &
BROKER_PID=$!
sleep 1
"$BIN" pricer --bootstrap "127.0.0.1:$PORT" --rate "$RATE" --quiet --log-level warning > "$WORK/pricer.log" 2>&1 &
PRICER_PID=$!
sleep 2
SERVER_PID=$BROKER_PID
SERVER_NAME="broker RSS"
TRANSPORT_ARGS=(--via kafka --bootstrap "127.0.0.1:$PORT")
if [ "$VIA" = ws ]; then
    "$BIN" gateway --bootstrap "127.0.0.1:$PORT" --http-port "$GATEWAY_PORT" --db "$WORK/none.sqlite" --log-level warning \
        ${GATEWAY_ARGS:-} > "$WORK/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    sleep 2
    SERVER_PID=$GATEWAY_PID
    SERVER_NAME="gateway RSS"
    TRANSPORT_ARGS=(--via ws --gateway "127.0.0.1:$GATEWAY_PORT")
fi

echo "swarm fan-out via $VIA: pricer $RATE quotes/s over 500 symbols, watchlist 20, $PROCESSES worker processes, $DURATION per run, release build, $(nproc) cores"
printf '%8s %12s %12s %10s %10s %10s %6s %6s %9s %12s %11s %11s\n' \
    clients deliveries/s records/s p50 p99 p99.9 gaps dups conflated "workers RSS" "per client" "$SERVER_NAME"
for clients in "${COUNTS[@]}"; do
    report="$WORK/swarm-$clients.json"
    "$BIN" swarm "${TRANSPORT_ARGS[@]}" --clients "$clients" --processes "$PROCESSES" --duration "$DURATION" \
        --report "$report" --log-level warning ${SWARM_ARGS:-} > "$WORK/swarm-$clients.out" 2> "$WORK/swarm-$clients.err" &
    swarm=$!
    peak_workers=0
    peak_broker=0
    while kill -0 "$swarm" 2>/dev/null; do
        total=0
        for worker in $(pgrep -P "$swarm" || true); do total=$(( total + $(rss_kib "$worker") )); done
        [ "$total" -gt "$peak_workers" ] && peak_workers=$total
        broker=$(rss_kib "$SERVER_PID")
        [ "$broker" -gt "$peak_broker" ] && peak_broker=$broker
        sleep 1
    done
    wait "$swarm" || { echo "swarm of $clients failed:"; cat "$WORK/swarm-$clients.err"; continue; }
    python3 - "$report" "$clients" "$peak_workers" "$peak_broker" <<'PY'
import json, sys
report, clients, workers_kib, broker_kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = json.load(open(report))
lat = d["latencyMicros"]
ms = lambda us: f"{us / 1000:.1f} ms"
seconds = d["durationSeconds"] or 1
print(f"{clients:>8} {d['deliveriesPerSecond']:>12,.0f} {d['records'] / seconds:>12,.0f} {ms(lat['p50']):>10} {ms(lat['p99']):>10} "
      f"{ms(lat['p99_9']):>10} {d['gaps']:>6} {d['duplicates']:>6} {d.get('conflated', 0):>9} {workers_kib / 1024:>8.0f} MiB {workers_kib / clients:>7.0f} KiB "
      f"{broker_kib / 1024:>7.0f} MiB")
PY
done
