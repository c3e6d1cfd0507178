#!/usr/bin/env bash
# Broker throughput with clients no one here wrote (release build):
#   kcat (librdkafka 2.0.2) and confluent-kafka (librdkafka 2.16) producing N keyed
#   ~120-byte messages to an 8-partition topic, then consuming them all;
#   beside them, the same bytes pushed through a loopback TCP socket by Python
#   (the transport ceiling on this machine) and written to a file (the disk ceiling).
# Usage: scripts/bench/broker-throughput.sh [MESSAGES]   (default 1000000)
#   SCRATCH_PATH=.build-release   uses another SwiftPM scratch path (default .build)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
N="${1:-1000000}"
PORT=39092
WORK="$(mktemp -d)"
PY="$ROOT/.venv/bin/python"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

SCRATCH="${SCRATCH_PATH:-.build}"
swift build -c release --scratch-path "$SCRATCH" --product tickstream >/dev/null
"$SCRATCH/release/tickstream" broker --port $PORT --data-dir "$WORK/data" --log-level warning &
sleep 1

# 120-byte records: an 8-byte key and a 112-byte value (kcat -K: splits them at the ':').
python3 - "$N" > "$WORK/messages.txt" <<'PY'
import sys
n = int(sys.argv[1])
payload = "x" * 98
with sys.stdout as out:
    for i in range(n):
        out.write(f"SYM{i % 500:05d}:{i:014d}{payload}\n")
PY
BYTES=$(( N * 120 ))

now() { date +%s.%N; }
rate() { python3 -c "import sys; n,b,t=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f'{n/t:>12,.0f} msg/s {b/t/1e6:>8.1f} MB/s {t:>7.2f} s')" "$@"; }

echo "tickstream broker, $N messages of 120 bytes, 8 partitions, release build, $(nproc) cores"
kcat -b 127.0.0.1:$PORT -t bench-kcat -P -K: -l "$WORK/messages.txt" -X queue.buffering.max.messages=1000000 -X linger.ms=5 -X batch.num.messages=10000 2>/dev/null || true  # creates the topic
kcat -b 127.0.0.1:$PORT -L -t bench-kcat >/dev/null
start=$(now)
kcat -b 127.0.0.1:$PORT -t bench-kcat2 -P -K: -l "$WORK/messages.txt" -X queue.buffering.max.messages=1000000 -X linger.ms=5 -X batch.num.messages=10000
end=$(now)
printf '%-40s %s\n' "produce  kcat (acks=all)" "$(rate $N $BYTES $(python3 -c "print($end - $start)"))"
start=$(now)
count=$(kcat -b 127.0.0.1:$PORT -t bench-kcat2 -C -o beginning -e -q -f '%k\n' | wc -l)
end=$(now)
printf '%-40s %s\n' "consume  kcat ($count read)" "$(rate $count $BYTES $(python3 -c "print($end - $start)"))"

if [ -x "$PY" ]; then
    "$PY" - "$PORT" "$N" <<'PY'
import sys, time
from confluent_kafka import Producer, Consumer, TopicPartition, OFFSET_BEGINNING
port, n = sys.argv[1], int(sys.argv[2])
payload = b"x" * 98
p = Producer({"bootstrap.servers": f"127.0.0.1:{port}", "linger.ms": 5, "batch.num.messages": 10000,
              "queue.buffering.max.messages": 2000000, "acks": "all"})
p.produce("bench-ck", key=b"warm", value=b"up"); p.flush()
t = time.time()
for i in range(n):
    while True:
        try:
            p.produce("bench-ck", key=b"SYM%05d" % (i % 500), value=b"%014d" % i + payload); break
        except BufferError:
            p.poll(0.01)
p.flush()
d = time.time() - t
print(f"{'produce  confluent-kafka (acks=all)':<40} {n/d:>12,.0f} msg/s {n*120/d/1e6:>8.1f} MB/s {d:>7.2f} s")
c = Consumer({"bootstrap.servers": f"127.0.0.1:{port}", "group.id": "bench", "fetch.max.bytes": 52428800})
parts = c.list_topics("bench-ck").topics["bench-ck"].partitions
c.assign([TopicPartition("bench-ck", q, OFFSET_BEGINNING) for q in parts])
t = time.time(); got = 0
while got < n + 1:
    got += len([m for m in c.consume(100000, 1.0) if not m.error()])
d = time.time() - t
print(f"{'consume  confluent-kafka':<40} {got/d:>12,.0f} msg/s {got*120/d/1e6:>8.1f} MB/s {d:>7.2f} s")
c.close()
PY
fi

# Ceilings: the same bytes through loopback TCP, and to a file with fsync.
python3 - "$WORK/messages.txt" <<'PY'
import socket, sys, threading, time, os
data = open(sys.argv[1], "rb").read()
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
def sink():
    conn, _ = server.accept()
    while conn.recv(1 << 20): pass
threading.Thread(target=sink, daemon=True).start()
client = socket.create_connection(server.getsockname())
t = time.time(); client.sendall(data); client.close(); d = time.time() - t
print(f"{'ceiling  loopback TCP, one stream':<40} {'':>12}       {len(data)/d/1e6:>8.1f} MB/s {d:>7.2f} s")
path = sys.argv[1] + ".copy"
t = time.time()
with open(path, "wb") as f:
    f.write(data); f.flush(); os.fsync(f.fileno())
d = time.time() - t
print(f"{'ceiling  file write + fsync':<40} {'':>12}       {len(data)/d/1e6:>8.1f} MB/s {d:>7.2f} s")
PY
