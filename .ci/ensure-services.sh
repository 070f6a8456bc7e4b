#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are up for the store tests,
# starting them with the machine's own commands when they are down.
# Never fails: on a machine without them (a laptop) it says why, and those tests skip themselves
# with a printed reason.
set -uo pipefail

port_open() {
  # bash's /dev/tcp avoids depending on nc; `timeout` bounds a hanging connect.
  timeout 2 bash -c ">/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

wait_for() {
  local what="$1" check="$2" _
  for _ in $(seq 1 30); do
    if eval "$check"; then
      echo "$what is up"
      return 0
    fi
    sleep 1
  done
  echo "$what did not come up within 30 s"
  return 1
}

postgres_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432 -t 2
  else
    port_open 5432
  fi
}

redis_ready() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
  else
    port_open 6379
  fi
}

if postgres_ready; then
  echo 'PostgreSQL is up on 127.0.0.1:5432'
elif ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /etc/postgresql >/dev/null 2>&1; then
  echo 'PostgreSQL is down and not installed here (no pg_ctlcluster or /etc/postgresql):' \
    'its tests will be skipped'
else
  echo 'PostgreSQL is down: starting it'
  for version_dir in /etc/postgresql/*/; do
    version="$(basename "$version_dir")"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
      echo "pg_ctlcluster $version main start failed (exit $?)"
  done
  wait_for PostgreSQL postgres_ready || echo 'PostgreSQL tests will be skipped'
fi

if redis_ready; then
  echo 'Redis is up on 127.0.0.1:6379'
elif ! command -v redis-server >/dev/null 2>&1; then
  echo 'Redis is down and redis-server is not installed here: its tests will be skipped'
else
  echo 'Redis is down: starting it'
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log ||
    echo "redis-server failed to start (exit $?)"
  wait_for Redis redis_ready || echo 'Redis tests will be skipped'
fi

exit 0
