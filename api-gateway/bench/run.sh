#!/usr/bin/env bash
# Gateway benchmark: the release gateway against real Redis, beside the baselines measured in the same run
# (a bare axum server that only reads the body and checks the HMAC, redis-benchmark's XADD rate, and how
# many task-shaped directories the disk and tmpfs create per second right now).
#
#   api-gateway/bench/run.sh            # from the workspace root; needs wrk, redis-server running, python3
#
# The gateway runs on the same load with task logs on the disk (under BENCH_DIR, default target/) and on
# tmpfs (/dev/shm), because this machine's disk varies tenfold in how fast it creates files (see
# BENCHMARKS.md). The bare server and the two gateway runs take turns, ROUNDS times; each gateway run is
# compared with the bare run of its round, and the table gives medians (worst p99 and RSS, totals of
# answers and tasks). Knobs: DURATION (default 20s per run), ROUNDS (2), CONNECTIONS (32), THREADS (2), DELIVERIES (5000 prepared
# bodies), ONLY (unset: the mix; `tasks` or `ignored`: only that kind of the same deliveries), REDIS_URL (redis://127.0.0.1:6379), BUILD=0 to use the release binaries already built,
# GATEWAY_BIN (target/production/api-gateway), BENCH_DIR. Both servers are built with the `production`
# profile (fat LTO), the one the container images ship. The gateway runs with ACTOR_RATE_LIMIT_PER_MINUTE=0
# (the load comes from 40 actors) and ACKNOWLEDGE_TASKS=false (the acknowledgement runs after the answer,
# against the provider services, which have their own benchmark).
set -euo pipefail

DURATION=${DURATION:-20s}
ROUNDS=${ROUNDS:-2}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DELIVERIES=${DELIVERIES:-5000}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
SECRET=bench-secret
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=$ROOT/api-gateway/bench
# shellcheck source=lib.sh
source "$BENCH/lib.sh"
mkdir -p "${BENCH_DIR:-$ROOT/target}"
WORK=$(mktemp -d -p "${BENCH_DIR:-$ROOT/target}" gateway-bench.XXXXXX)
TMPFS_WORK=""
if [ -d /dev/shm ]; then TMPFS_WORK=$(mktemp -d -p /dev/shm gateway-bench.XXXXXX); fi
PREFIX="bench:$(date +%s):"
GATEWAY_PORT=${GATEWAY_PORT:-18080}
BARE_PORT=${BARE_PORT:-18099}
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  delete_keys "$PREFIX"
  redis-cli -u "$REDIS_URL" del bench:xadd >/dev/null
  rm -rf "$WORK" ${TMPFS_WORK:+"$TMPFS_WORK"}
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cd "$ROOT"
if [ "${BUILD:-1}" != 0 ]; then cargo build --profile production -p api-gateway --bins >&2; fi
python3 "$BENCH/prepare.py" --out "$WORK/requests.txt" --count "$DELIVERIES" --secret "$SECRET" ${ONLY:+--only "$ONLY"} >&2

peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# run_load NAME PORT: wrk against the server, printing its summary and our counters.
run_load() {
  REQUESTS_FILE="$WORK/requests.txt" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s "$BENCH/github.lua" "http://127.0.0.1:$2" | tee "$WORK/$1.wrk" >&2
}

value() { awk -F= -v key="$2" '$1 == key {print $2}' "$WORK/$1.wrk"; }

# Task-shaped directories (a directory, two files written and renamed, two appended) per second in $1.
# The probe's files stay until the end: deleting thousands of files slows this disk's next creations.
probe_files() {
  python3 - "$1" <<'PY'
import os, sys, time
root = sys.argv[1]
os.makedirs(root, exist_ok=True)
count, started = 2000, time.perf_counter()
for i in range(count):
    task = os.path.join(root, f"task-{i}")
    os.mkdir(task)
    for name in ("metadata.json", "01-input.json"):
        with open(os.path.join(task, f".{name}.tmp"), "wb") as f:
            f.write(b"x" * 1500)
        os.rename(os.path.join(task, f".{name}.tmp"), os.path.join(task, name))
    for name in ("02-webhook-flow.jsonl", "03-queue-flow.jsonl"):
        with open(os.path.join(task, name), "ab") as f:
            f.write(b"y" * 600)
print(round(count / (time.perf_counter() - started)))
PY
}

echo "== file-creation baselines" >&2
disk_dirs=$(probe_files "$WORK/probe")
tmpfs_dirs="—"
if [ -n "$TMPFS_WORK" ]; then tmpfs_dirs=$(probe_files "$TMPFS_WORK/probe"); fi

# run_bare NAME: the bare server under the load; sets NAME_* figures.
declare -A figure
run_bare() {
  local name=$1
  echo "== $name: bare axum + HMAC" >&2
  BIND_ADDR=127.0.0.1:$BARE_PORT GITHUB_WEBHOOK_SECRET=$SECRET target/production/bare-hmac-server &
  server_pid=$!
  wait_for_port "$BARE_PORT"
  local busy_before
  busy_before=$(machine_busy_ticks)
  run_load "$name" "$BARE_PORT"
  figure[$name.machine_cpu]=$(per_answer_us "$(ticks_to_seconds $(( $(machine_busy_ticks) - busy_before )))" "$name")
  figure[$name.rss]=$(( $(peak_rss_kb "$server_pid") / 1024 ))
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

# cpu_ticks PID: the process's user + system time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# machine_busy_ticks: every core's busy time so far (all processes and the kernel), in clock ticks.
machine_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# ticks_to_seconds TICKS: clock ticks as seconds.
ticks_to_seconds() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}'; }
# answered NAME: every answer wrk counted in run NAME.
answered() { echo $(( $(value "$1" STATUS_202) + $(value "$1" STATUS_200) + $(value "$1" STATUS_OTHER) )); }
# per_answer_us SECONDS NAME: SECONDS of CPU time shared over run NAME's answers, in µs.
per_answer_us() { awk -v s="$1" -v n="$(answered "$2")" 'BEGIN {printf "%.0f", s * 1e6 / n}'; }
# redis_cpu_seconds: Redis's user + system time so far (the same cores serve it).
redis_cpu_seconds() { redis-cli -u "$REDIS_URL" info cpu | tr -d '\r' | awk -F: '$1 == "used_cpu_sys" || $1 == "used_cpu_user" {s += $2} END {print s}'; }

# run_gateway NAME LOGS_DIR: the gateway under the same load; sets NAME_* figures.
run_gateway() {
  local name=$1 logs=$2 prefix="${PREFIX}$1:"
  echo "== $name: api-gateway, task logs in $logs" >&2
  mkdir -p "$logs"
  BIND_ADDR=127.0.0.1:$GATEWAY_PORT GITHUB_WEBHOOK_SECRET=$SECRET REDIS_URL=$REDIS_URL REDIS_KEY_PREFIX=$prefix \
    TASK_LOGS_DIR="$logs" ACTOR_RATE_LIMIT_PER_MINUTE=0 ACKNOWLEDGE_TASKS=false RUST_LOG=${RUST_LOG:-info} \
    "${GATEWAY_BIN:-target/production/api-gateway}" >"$WORK/$name.log" &
  server_pid=$!
  wait_for_port "$GATEWAY_PORT"
  local ticks_before redis_before busy_before
  ticks_before=$(cpu_ticks "$server_pid")
  redis_before=$(redis_cpu_seconds)
  busy_before=$(machine_busy_ticks)
  run_load "$name" "$GATEWAY_PORT"
  local ticks=$(( $(cpu_ticks "$server_pid") - ticks_before ))
  figure[$name.machine_cpu]=$(per_answer_us "$(ticks_to_seconds $(( $(machine_busy_ticks) - busy_before )))" "$name")
  local redis_seconds
  redis_seconds=$(awk -v a="$redis_before" -v b="$(redis_cpu_seconds)" 'BEGIN {print b - a}')
  figure[$name.rss]=$(( $(peak_rss_kb "$server_pid") / 1024 ))
  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  local queued=0
  for priority in high normal low; do
    queued=$((queued + $(redis-cli -u "$REDIS_URL" xlen "${prefix}tasks:$priority")))
  done
  local accepted
  accepted=$(value "$name" STATUS_202)
  figure[$name.cpu]=$(per_answer_us "$(ticks_to_seconds "$ticks")" "$name")
  figure[$name.redis_cpu]=$(per_answer_us "$redis_seconds" "$name")
  figure[$name.queued]=$queued
  figure[$name.lost]=$(( accepted > queued ? accepted - queued : 0 ))
  figure[$name.dirs]=$(find "$logs" -mindepth 1 -maxdepth 1 -type d | wc -l)
  figure[$name.lines]=$(wc -l <"$WORK/$name.log")
}

# The servers take turns, ROUNDS times, so that a drift in this machine's speed (it has varied by a third
# within an hour) moves every column alike; each gateway run is compared with the bare run of its round.
storages="disk"
if [ -n "$TMPFS_WORK" ]; then storages="disk tmpfs"; fi
for round in $(seq "$ROUNDS"); do
  run_bare "bare$round"
  for storage in $storages; do
    if [ "$storage" = disk ]; then logs="$WORK/logs$round"; else logs="$TMPFS_WORK/logs$round"; fi
    run_gateway "$storage$round" "$logs"
  done
done

echo "== redis-benchmark XADD baseline" >&2
envelope=$(head -c 900 /dev/zero | tr '\0' 'x')
xadd=$(redis-benchmark -u "$REDIS_URL" -c "$CONNECTIONS" -n 200000 -q XADD bench:xadd '*' envelope "$envelope" | tr '\r' '\n' | awk '/requests per second/ {for (i = 1; i <= NF; i++) if ($i == "requests") value = $(i - 1)} END {print value}')

# median NUMBERS...: the middle value (the lower middle one of an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# over NAME FIELD: the values of FIELD (a wrk figure) in every round of NAME.
over() { local r; for r in $(seq "$ROUNDS"); do value "$1$r" "$2"; done; }
over_figure() { local r; for r in $(seq "$ROUNDS"); do echo "${figure[$1$r.$2]}"; done; }
total() { awk '{s += $1} END {print s}'; }
maximum() { sort -n | tail -1; }
ratios() { # ratios NAME: the gateway's requests/s as a percentage of its round's bare run, one per round
  local r; for r in $(seq "$ROUNDS"); do
    awk -v g="$(value "$1$r" RPS)" -v b="$(value "bare$r" RPS)" 'BEGIN {printf "%.0f\n", 100 * g / b}'
  done
}
rps() { echo "$(median $(over "$1" RPS)) ($(median $(ratios "$1")) % of bare; rounds $(ratios "$1" | paste -sd/) %)"; }
p50() { echo "$(median $(over "$1" P50_US)) µs"; }
p99() { echo "$(over "$1" P99_US | maximum) µs"; }
rss() { echo "$(over_figure "$1" rss | maximum) MiB"; }
answers() { echo "$(over "$1" STATUS_202 | total) / $(over "$1" STATUS_200 | total) / $(over "$1" STATUS_OTHER | total)"; }
tasks() { echo "$(over_figure "$1" queued | total) / $(over_figure "$1" dirs | total)"; }
lost() { over_figure "$1" lost | total; }
lines() { over_figure "$1" lines | total; }
cpu() { echo "$(median $(over_figure "$1" cpu)) µs"; }
redis_cpu() { echo "$(median $(over_figure "$1" redis_cpu)) µs"; }
machine() { echo "$(median $(over_figure "$1" machine_cpu)) µs"; }
dash() { echo "—"; }
row() { # row LABEL FUNCTION [BARE_FUNCTION]: one table row, the bare column from BARE_FUNCTION (default FUNCTION)
  local line="| $1 | $(${3:-$2} bare) |"
  for name in $storages; do line="$line $($2 "$name") |"; done
  echo "$line"
}
bare_rps() { median $(over bare RPS); }

header="| measure ($ROUNDS rounds of $DURATION; medians, worst p99 and RSS, totals) | bare axum + HMAC |"; rule="|---|---|"
for name in $storages; do header="$header api-gateway, logs on $name |"; rule="$rule---|"; done
echo "$header"
echo "$rule"
row "requests/s" rps bare_rps
row "p50 latency" p50
row "p99 latency" p99
row "peak RSS" rss
row "answers 202 / 200 / other" answers
row "gateway CPU per request" cpu dash
row "Redis CPU per request" redis_cpu dash
row "machine CPU per request (server, Redis, wrk, kernel)" machine
row "tasks on the streams / task directories" tasks dash
row "tasks lost (202s not on a stream)" lost dash
row "gateway JSON log lines" lines dash
echo
echo "Baselines in the same run: redis-benchmark XADD (900-byte field, $CONNECTIONS connections) $xadd requests/s;"
echo "task-shaped directories created per second: $disk_dirs on the disk, $tmpfs_dirs on tmpfs."
