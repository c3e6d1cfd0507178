#!/usr/bin/env bash
# Fan-out beside its peers: the tickstream gateway (WebSocket, broker and pricer behind it)
# against Redis pub/sub and NATS on the same machine, in the same invocation, each driven by
# the same single-threaded C epoll client (scripts/bench/fanout/harness.c).
#
# Three scenarios, each run for tickstream, Redis and NATS in turn:
#   fanout   CLIENTS connections, each subscribed to every symbol (WATCH=0) or to a
#            WATCH-symbol watchlist; RATE quotes/s for DURATION seconds after a warm-up.
#            Deliveries/s, end-to-end latency (receive − the quote's ts), gaps, duplicates,
#            server CPU (cores) and CPU per delivery.
#   idle     IDLE connections with 20-symbol watchlists held open and silent: server RSS
#            before and after, per connection.
#   stalled  STALL connections subscribed to every symbol that never read, plus one
#            well-behaved client: what the well-behaved one still gets, and its latency.
# The peers publish with the harness's own paced publisher (the same quote JSON, ~120
# bytes, volume-weighted symbols); tickstream with `tickstream pricer`. Redis and NATS see
# one channel with every quote (WATCH=0) or one channel per symbol (WATCH>0).
#
# Usage: scripts/bench/fanout-vs-peers.sh
#   CLIENTS=1000 RATE=1000 DURATION=15 WATCH=0 IDLE=2000 STALL=200
#   SCENARIOS="fanout idle stalled"  PEERS="tickstream redis nats"
#   QUERY=batch=1 (the gateway's /ws options; QUERY= for one quote per frame)
#   SCRATCH_PATH=.build (release build there)
# Installs redis-server and nats-server (Debian) when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/scripts/lib/setup.sh"
cd "$ROOT"

CLIENTS="${CLIENTS:-1000}"
RATE="${RATE:-1000}"
DURATION="${DURATION:-15}"
WATCH="${WATCH:-0}"
IDLE="${IDLE:-2000}"
STALL="${STALL:-200}"
SCENARIOS="${SCENARIOS:-fanout idle stalled}"
PEERS="${PEERS:-tickstream redis nats}"
QUERY="${QUERY-batch=1}"
SCRATCH="${SCRATCH_PATH:-.build}"
BROKER_PORT="${BROKER_PORT:-39492}"
GATEWAY_PORT="${GATEWAY_PORT:-39480}"
REDIS_PORT="${REDIS_PORT:-39479}"
NATS_PORT="${NATS_PORT:-39422}"

require_swift
apt_install redis-server nats-server gcc
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

say "building tickstream (release) and the harness"
swift build -c release --scratch-path "$SCRATCH" --product tickstream >/dev/null
BIN="$ROOT/$SCRATCH/release/tickstream"
gcc -O2 -o "$WORK/harness" scripts/bench/fanout/harness.c -lm
H="$WORK/harness"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; tail -5 "$WORK"/*.log >&2; return 1; }

# --- servers -----------------------------------------------------------------------------
TS_BROKER="" TS_GATEWAY="" TS_PRICER="" REDIS="" NATS=""
start_tickstream() {
    rm -rf "$WORK/data"
    "$BIN" broker --port "$BROKER_PORT" --data-dir "$WORK/data" --log-level error 2>"$WORK/broker.log" &
    TS_BROKER=$!; PIDS+=("$TS_BROKER")
    wait_port "$BROKER_PORT"
    "$BIN" gateway --bootstrap "127.0.0.1:$BROKER_PORT" --http-port "$GATEWAY_PORT" --db "$WORK/none.sqlite" \
        --log-level error >"$WORK/gateway.log" 2>&1 &
    TS_GATEWAY=$!; PIDS+=("$TS_GATEWAY")
    wait_port "$GATEWAY_PORT"
}
start_pricer() { # the tickstream publisher
    "$BIN" pricer --bootstrap "127.0.0.1:$BROKER_PORT" --rate "$RATE" --quiet --log-level warning >"$WORK/pricer.log" 2>&1 &
    TS_PRICER=$!; PIDS+=("$TS_PRICER")
}
stop_pid() { [ -n "$1" ] && { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; }
start_redis() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --client-output-buffer-limit "pubsub 32mb 8mb 60" --loglevel warning >"$WORK/redis.log" 2>&1 &
    REDIS=$!; PIDS+=("$REDIS")
    wait_port "$REDIS_PORT"
}
start_nats() {
    nats-server -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats.log" 2>&1 &
    NATS=$!; PIDS+=("$NATS")
    wait_port "$NATS_PORT"
}
# The peers' publisher, paced like the pricer, for as long as the subscribers run.
PUB=""
start_peer_publisher() { # mode port watch
    "$H" "$1" --port "$2" --rate "$RATE" --duration 3600 --watch "$3" 2>>"$WORK/publisher.log" &
    PUB=$!; PIDS+=("$PUB")
}

# --- one subscriber run --------------------------------------------------------------------
# run_subscribers NAME MODE PORT CPU_PIDS [harness flags...] → prints the line, sets LINE
LINE=""
run_subscribers() {
    local name="$1" mode="$2" port="$3" cpus="$4"; shift 4
    LINE=$("$H" "$mode" --port "$port" --rate "$RATE" --duration "$DURATION" --cpu-pids "$cpus" "$@")
    echo "$name: $LINE" >>"$WORK/raw.txt"
}

declare -A RESULT
fanout_row() { # name line deliveries-cores-fields
    local name="$1" line="$2"
    local rate expected p50 p99 p999 max gaps dups conflated cpu cores us
    rate=$(field rate "$line"); expected=$(field expected_rate "$line")
    p50=$(field p50_us "$line"); p99=$(field p99_us "$line"); p999=$(field p999_us "$line"); max=$(field max_us "$line")
    gaps=$(field gaps "$line"); dups=$(field dups "$line"); conflated=$(field conflated "$line")
    cpu=$(field cpu "$line")
    cores=$(awk -v c="$cpu" 'BEGIN { n = split(c, a, ","); s = 0; for (i = 1; i <= n; i++) if (a[i] > 0) s += a[i]; printf "%.2f", s }')
    us=$(awk -v c="$cores" -v r="$rate" 'BEGIN { printf "%.2f", (r > 0 ? c / r * 1e6 : 0) }')
    RESULT["$name"]="$rate"
    printf "%-22s %10.0f %10.0f %9.1f %9.1f %9.1f %9.1f %5s %5s %9s %6s %7s\n" "$name" "$rate" "$expected" \
        "$(awk -v v="$p50" 'BEGIN{print v/1000}')" "$(awk -v v="$p99" 'BEGIN{print v/1000}')" \
        "$(awk -v v="$p999" 'BEGIN{print v/1000}')" "$(awk -v v="$max" 'BEGIN{print v/1000}')" \
        "$gaps" "$dups" "$conflated" "$cores" "$us"
}
fanout_header() {
    printf "%-22s %10s %10s %9s %9s %9s %9s %5s %5s %9s %6s %7s\n" server "deliv/s" "asked/s" "p50 ms" "p99 ms" \
        "p99.9 ms" "max ms" gaps dups conflated cores "µs/del"
}

echo "fan-out beside its peers: clients=$CLIENTS watch=${WATCH/#0/all} rate=$RATE/s duration=${DURATION}s idle=$IDLE stall=$STALL query=${QUERY:-none} ($(nproc) cores)"

for scenario in $SCENARIOS; do
case "$scenario" in
fanout)
    say "fanout: $CLIENTS clients"
    echo
    echo "## fanout: $CLIENTS clients, watch ${WATCH/#0/every symbol}, $RATE quotes/s, ${DURATION}s"
    fanout_header
    for peer in $PEERS; do
        case "$peer" in
        tickstream)
            start_tickstream; start_pricer; sleep 2
            run_subscribers tickstream ws "$GATEWAY_PORT" "$TS_GATEWAY,$TS_BROKER" --conns "$CLIENTS" --watch "$WATCH" ${QUERY:+--query "$QUERY"}
            fanout_row "tickstream gateway" "$LINE"
            stop_pid "$TS_PRICER"; stop_pid "$TS_GATEWAY"; stop_pid "$TS_BROKER" ;;
        redis)
            start_redis; start_peer_publisher pub-redis "$REDIS_PORT" "$WATCH"
            run_subscribers redis redis "$REDIS_PORT" "$REDIS" --conns "$CLIENTS" --watch "$WATCH"
            fanout_row "redis pub/sub" "$LINE"
            stop_pid "$PUB"; stop_pid "$REDIS" ;;
        nats)
            start_nats; start_peer_publisher pub-nats "$NATS_PORT" "$WATCH"
            run_subscribers nats nats "$NATS_PORT" "$NATS" --conns "$CLIENTS" --watch "$WATCH"
            fanout_row "nats" "$LINE"
            stop_pid "$PUB"; stop_pid "$NATS" ;;
        esac
    done
    for peer in redis nats; do
        if [ -n "${RESULT[tickstream gateway]:-}" ] && [ -n "${RESULT[$peer pub/sub]:-${RESULT[$peer]:-}}" ]; then
            other="${RESULT[$peer pub/sub]:-${RESULT[$peer]}}"
            awk -v a="${RESULT[tickstream gateway]}" -v b="$other" -v p="$peer" \
                'BEGIN { printf "ratio tickstream / %s deliveries: %.2f\n", p, (b > 0 ? a / b : 0) }'
        fi
    done
    ;;
idle)
    say "idle: $IDLE idle connections"
    echo
    echo "## idle: $IDLE connections with 20-symbol watchlists, no traffic"
    printf "%-22s %12s %12s %14s\n" server "rss before" "rss after" "per connection"
    for peer in $PEERS; do
        case "$peer" in
        tickstream)
            # The live topic holds a few thousand quotes first, as after a short demo.
            start_tickstream; start_pricer; sleep 5; stop_pid "$TS_PRICER"; sleep 5
            pid=$TS_GATEWAY; mode=ws; port=$GATEWAY_PORT; label="tickstream gateway" ;;
        redis) start_redis; pid=$REDIS; mode=redis; port=$REDIS_PORT; label="redis pub/sub" ;;
        nats) start_nats; pid=$NATS; mode=nats; port=$NATS_PORT; label="nats" ;;
        esac
        before=$(rss_kib "$pid")
        rm -f "$WORK/ready"
        "$H" "$mode" --port "$port" --conns "$IDLE" --watch 20 --idle --duration 30 --ready-file "$WORK/ready" \
            >"$WORK/idle.txt" 2>>"$WORK/idle.log" &
        holder=$!
        for _ in $(seq 600); do [ -f "$WORK/ready" ] && break; sleep 0.1; done
        sleep 5
        after=$(rss_kib "$pid")
        kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true
        printf "%-22s %9d KiB %9d KiB %11.1f KiB\n" "$label" "$before" "$after" \
            "$(awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN { print (a - b) / n }')"
        case "$peer" in
        tickstream) stop_pid "$TS_GATEWAY"; stop_pid "$TS_BROKER" ;;
        redis) stop_pid "$REDIS" ;; nats) stop_pid "$NATS" ;;
        esac
    done
    ;;
stalled)
    say "stalled: $STALL stalled clients beside one reader"
    echo
    echo "## stalled: $STALL clients subscribed to every symbol never read; one reader of every symbol, $RATE quotes/s"
    fanout_header
    for peer in $PEERS; do
        case "$peer" in
        tickstream)
            start_tickstream; start_pricer; sleep 2
            run_subscribers tickstream ws "$GATEWAY_PORT" "$TS_GATEWAY,$TS_BROKER" --conns 1 --stall "$STALL" \
                --watch 0 ${QUERY:+--query "$QUERY"}
            fanout_row "tickstream gateway" "$LINE"
            stop_pid "$TS_PRICER"; stop_pid "$TS_GATEWAY"; stop_pid "$TS_BROKER" ;;
        redis)
            start_redis; start_peer_publisher pub-redis "$REDIS_PORT" 0
            run_subscribers redis redis "$REDIS_PORT" "$REDIS" --conns 1 --stall "$STALL" --watch 0
            fanout_row "redis pub/sub" "$LINE"
            stop_pid "$PUB"; stop_pid "$REDIS" ;;
        nats)
            start_nats; start_peer_publisher pub-nats "$NATS_PORT" 0
            run_subscribers nats nats "$NATS_PORT" "$NATS" --conns 1 --stall "$STALL" --watch 0
            fanout_row "nats" "$LINE"
            stop_pid "$PUB"; stop_pid "$NATS" ;;
        esac
    done
    echo "(redis drops a stalled subscriber past its pubsub output-buffer limit; nats marks it a slow consumer and closes it; the gateway conflates it)"
    ;;
esac
done
echo
echo "raw harness lines:"
cat "$WORK/raw.txt" 2>/dev/null || true
