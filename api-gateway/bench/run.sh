#!/usr/bin/env bash
# Gateway benchmark: the release gateway against real Redis, beside two baselines measured in the same run
# (a bare axum server that only reads the body and checks the HMAC, and redis-benchmark's XADD rate).
#
#   api-gateway/bench/run.sh            # from the workspace root; needs wrk, redis-server running, python3
#
# Knobs: DURATION (default 20s), CONNECTIONS (32), THREADS (2), DELIVERIES (5000 prepared bodies),
# REDIS_URL (redis://127.0.0.1:6379), BUILD=0 to use the release binaries already built, GATEWAY_BIN
# (target/release/api-gateway). ACTOR_RATE_LIMIT_PER_MINUTE=0: the load comes from 40 actors.
set -euo pipefail

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DELIVERIES=${DELIVERIES:-5000}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
SECRET=bench-secret
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/api-gateway/bench
mkdir -p "${BENCH_DIR:-$ROOT/target}"
WORK=$(mktemp -d -p "${BENCH_DIR:-$ROOT/target}" gateway-bench.XXXXXX)
PREFIX="bench:$(date +%s):"
GATEWAY_PORT=${GATEWAY_PORT:-18080}
BARE_PORT=${BARE_PORT:-18099}
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  redis-cli -u "$REDIS_URL" --scan --pattern "${PREFIX}*" | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null
  redis-cli -u "$REDIS_URL" del bench:xadd >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cd "$ROOT"
if [ "${BUILD:-1}" != 0 ]; then cargo build --release -p api-gateway --bins >&2; fi
python3 "$BENCH/prepare.py" --out "$WORK/requests.txt" --count "$DELIVERIES" --secret "$SECRET" >&2

wait_for_port() {
  for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on $1" >&2; exit 1
}

peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# run_load NAME PORT: wrk against the server, printing its summary and our counters.
run_load() {
  REQUESTS_FILE="$WORK/requests.txt" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s "$BENCH/github.lua" "http://127.0.0.1:$2" | tee "$WORK/$1.wrk" >&2
}

value() { awk -F= -v key="$2" '$1 == key {print $2}' "$WORK/$1.wrk"; }

echo "== bare axum + HMAC baseline" >&2
BIND_ADDR=127.0.0.1:$BARE_PORT GITHUB_WEBHOOK_SECRET=$SECRET target/release/bare-hmac-server &
server_pid=$!
wait_for_port "$BARE_PORT"
run_load bare "$BARE_PORT"
bare_rss=$(peak_rss_kb "$server_pid")
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

echo "== api-gateway" >&2
BIND_ADDR=127.0.0.1:$GATEWAY_PORT GITHUB_WEBHOOK_SECRET=$SECRET REDIS_URL=$REDIS_URL REDIS_KEY_PREFIX=$PREFIX \
  TASK_LOGS_DIR="$WORK/logs" ACTOR_RATE_LIMIT_PER_MINUTE=0 RUST_LOG=${RUST_LOG:-info} \
  "${GATEWAY_BIN:-target/release/api-gateway}" >"$WORK/gateway.log" &
server_pid=$!
wait_for_port "$GATEWAY_PORT"
run_load gateway "$GATEWAY_PORT"
gateway_rss=$(peak_rss_kb "$server_pid")
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

queued=0
for priority in high normal low; do
  queued=$((queued + $(redis-cli -u "$REDIS_URL" xlen "${PREFIX}tasks:$priority")))
done
accepted=$(value gateway STATUS_202)
task_dirs=$(find "$WORK/logs" -mindepth 1 -maxdepth 1 -type d | wc -l)
log_lines=$(wc -l <"$WORK/gateway.log")

echo "== redis-benchmark XADD baseline" >&2
envelope=$(head -c 900 /dev/zero | tr '\0' 'x')
xadd=$(redis-benchmark -u "$REDIS_URL" -c "$CONNECTIONS" -n 200000 -q XADD bench:xadd '*' envelope "$envelope" | tr '\r' '\n' | awk '/requests per second/ {for (i = 1; i <= NF; i++) if ($i == "requests") value = $(i - 1)} END {print value}')

bare_rps=$(value bare RPS); gateway_rps=$(value gateway RPS)
cat <<REPORT
| measure | bare axum + HMAC | api-gateway |
|---|---|---|
| requests/s | $bare_rps | $gateway_rps ($(awk -v g="$gateway_rps" -v b="$bare_rps" 'BEGIN {printf "%.0f %%", 100 * g / b}') of bare) |
| p50 latency | $(value bare P50_US) µs | $(value gateway P50_US) µs |
| p99 latency | $(value bare P99_US) µs | $(value gateway P99_US) µs |
| peak RSS | $((bare_rss / 1024)) MiB | $((gateway_rss / 1024)) MiB |
| answers 202 / 200 / other | $(value bare STATUS_202) / $(value bare STATUS_200) / $(value bare STATUS_OTHER) | $accepted / $(value gateway STATUS_200) / $(value gateway STATUS_OTHER) |
| tasks on the streams / task directories | — | $queued / $task_dirs |
| tasks lost (202s not on a stream) | — | $(( accepted > queued ? accepted - queued : 0 )) (entries beyond the 202s: requests in flight when wrk stopped) |
| gateway JSON log lines | — | $log_lines |

redis-benchmark XADD (900-byte field, $CONNECTIONS connections): $xadd requests/s
REPORT
