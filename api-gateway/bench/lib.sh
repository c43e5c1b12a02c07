# Helpers shared by the gateway benchmarks (sourced by run.sh and instructions.sh).

# wait_for_port PORT [SECONDS]: returns once something listens on 127.0.0.1:PORT; fails after SECONDS (10).
wait_for_port() {
  local tries=$(( ${2:-10} * 10 ))
  for _ in $(seq "$tries"); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on $1" >&2; exit 1
}

# delete_keys PREFIX: removes every key under PREFIX from the Redis at $REDIS_URL.
delete_keys() {
  redis-cli -u "$REDIS_URL" --scan --pattern "$1*" | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null
}
