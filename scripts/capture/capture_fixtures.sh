#!/usr/bin/env bash
# Captures the request frames real Kafka clients send and keeps one of each API and
# version per client as golden bytes in fixtures/frames/. Needs a built tickstream and
# the .venv from scripts/test. The captured files are committed; re-run only to refresh.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
BIN="${TICKSTREAM_BIN:-$ROOT/.build/debug/tickstream}"
PY="$ROOT/.venv/bin/python"
WORK="$(mktemp -d)"
OUT="$ROOT/fixtures/frames"
BROKER_PORT=29092
PROXY_PORT=29093
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

"$BIN" broker --port $BROKER_PORT --advertised-port $PROXY_PORT --data-dir "$WORK/data" --log-level warning &
sleep 2

capture() {
    local label="$1"; shift
    "$PY" scripts/capture/record_proxy.py --listen $PROXY_PORT --upstream 127.0.0.1:$BROKER_PORT --out "$WORK/raw" --label "$label" &
    local proxy=$!
    sleep 1
    "$@" || echo "warning: the $label session failed" >&2
    kill $proxy; wait $proxy 2>/dev/null || true
}

capture kcat sh -c "printf 'k0:v0\nk1:v1\nk2:v2\n' | kcat -b 127.0.0.1:$PROXY_PORT -t golden -p 0 -P -K: \
    && kcat -b 127.0.0.1:$PROXY_PORT -t golden -p 0 -C -o beginning -e -q >/dev/null \
    && timeout 15 kcat -b 127.0.0.1:$PROXY_PORT -G golden-kcat golden -o beginning -e -q >/dev/null"
capture confluent "$PY" scripts/capture/scenario.py confluent --bootstrap 127.0.0.1:$PROXY_PORT
capture kafka-python "$PY" scripts/capture/scenario.py kafka-python --bootstrap 127.0.0.1:$PROXY_PORT
capture aiokafka "$PY" scripts/capture/scenario.py aiokafka --bootstrap 127.0.0.1:$PROXY_PORT

# Keep the first frame of each client/API/version (file names end in a capture sequence number).
mkdir -p "$OUT"
declare -A kept=()
for file in $(ls "$WORK/raw" | awk -F- '{print $NF" "$0}' | sort -n | cut -d' ' -f2); do
    key="${file%-*}"
    if [ -z "${kept[$key]:-}" ]; then
        cp "$WORK/raw/$file" "$OUT/$key.bin"
        kept[$key]=1
    fi
done
# librdkafka's Metadata v12 comes in three shapes (brokers only, one topic, all topics);
# the all-topics one carries three bytes after its body. Keep the first two of an
# AdminClient.list_topics() session under names of their own.
capture confluent-metadata "$PY" -c "from confluent_kafka.admin import AdminClient; \
AdminClient({'bootstrap.servers': '127.0.0.1:$PROXY_PORT'}).list_topics(timeout=10)"
metadata=( $(ls "$WORK/raw" | grep '^confluent-metadata-Metadata-v12' | sort -t- -k5 -n) )
cp "$WORK/raw/${metadata[0]}" "$OUT/confluent-Metadata-v12-brokers-only.bin"
cp "$WORK/raw/${metadata[1]}" "$OUT/confluent-Metadata-v12-all-topics.bin"
rm -f "$OUT"/confluent-metadata-*.bin
ls "$OUT"
