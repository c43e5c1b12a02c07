#!/usr/bin/env bash
# Instructions per delivery, counted by valgrind's callgrind: repeatable on this noisy machine, where
# requests/s drift by a third within an hour, so a user-space change to the gateway can be judged alone.
#
#   api-gateway/bench/instructions.sh      # from the workspace root; needs valgrind, redis-server running, python3
#
# The production gateway (task logs on tmpfs, the same settings as run.sh) serves SMALL and then LARGE
# deliveries one at a time, under callgrind; (instructions(LARGE) - instructions(SMALL)) / (LARGE - SMALL)
# leaves start-up and shutdown out. Printed for the task-creating and the ignored deliveries of run.sh's load.
# valgrind's CPU has no SHA extensions, so the HMAC is counted in software (most of an ignored delivery's
# count): compare counts of two builds, not with CPU time. Kernel work (files, sockets) is not counted.
# Knobs: SMALL (100), LARGE (600), GATEWAY_BIN (target/production/api-gateway), BUILD=0, REDIS_URL.
set -euo pipefail
shopt -s inherit_errexit  # a failed run inside $(instructions …) stops the script

SMALL=${SMALL:-100}
LARGE=${LARGE:-600}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/api-gateway/bench
# shellcheck source=lib.sh
source "$BENCH/lib.sh"
WORK=$(mktemp -d)
LOGS=$(mktemp -d -p /dev/shm gateway-instructions.XXXXXX)
PREFIX="bench-instructions:$(date +%s):"
PORT=${GATEWAY_PORT:-18181}
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  delete_keys "$PREFIX"
  rm -rf "$WORK" "$LOGS"
}
trap cleanup EXIT

command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install -y valgrind" >&2; exit 1; }
cd "$ROOT"
if [ "${BUILD:-1}" != 0 ]; then cargo build --profile production -p api-gateway --bin api-gateway >&2; fi

# instructions KIND COUNT: the gateway's whole instruction count when it serves COUNT deliveries of KIND.
instructions() {
  local kind=$1 count=$2 run="$1-$2"
  BIND_ADDR=127.0.0.1:$PORT GITHUB_WEBHOOK_SECRET=bench-secret REDIS_URL=$REDIS_URL REDIS_KEY_PREFIX="$PREFIX$run:" \
    TASK_LOGS_DIR="$LOGS/$run" ACTOR_RATE_LIMIT_PER_MINUTE=0 ACKNOWLEDGE_TASKS=false RUST_LOG=info \
    valgrind --tool=callgrind --callgrind-out-file="$WORK/$run.out" \
    "${GATEWAY_BIN:-target/production/api-gateway}" >"$WORK/$run.log" 2>"$WORK/$run.valgrind" &
  server_pid=$!
  wait_for_port "$PORT" 60
  python3 "$BENCH/send.py" "$WORK/$kind.txt" "$count" "$PORT" "$run"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
  awk '/^summary:/ {print $2}' "$WORK/$run.out"
}

echo "| deliveries | instructions per delivery ($LARGE − $SMALL served, callgrind) |"
echo "|---|---:|"
for kind in tasks ignored; do
  python3 "$BENCH/prepare.py" --out "$WORK/$kind.txt" --count 5000 --secret bench-secret --only "$kind" >&2
  small=$(instructions "$kind" "$SMALL")
  large=$(instructions "$kind" "$LARGE")
  echo "| $kind | $(( (large - small) / (LARGE - SMALL) )) |"
done
