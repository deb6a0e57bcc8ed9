#!/usr/bin/env bash
# Make sure the RabbitMQ and PostgreSQL that Laris needs answer on 127.0.0.1.
# Shared by `make run`, `make test` and `.ci/run`: start them when stopped, install them on a
# Debian/Ubuntu machine when we are root, otherwise say exactly what to run. Idempotent.
set -euo pipefail

AMQP_PORT=${LARIS_AMQP_PORT:-5672}
PG_PORT=${LARIS_PG_PORT:-5432}
WAIT_SECONDS=${LARIS_INFRA_WAIT:-60}

say() { echo "ensure-infra: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else return 1; fi
}

port_open() {  # port_open PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_until() {  # wait_until DESCRIPTION COMMAND...
  local what=$1; shift
  for _ in $(seq 1 "$WAIT_SECONDS"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  say "$what did not answer within ${WAIT_SECONDS}s"; return 1
}

install_packages() {  # install_packages PKG...
  if ! command -v apt-get >/dev/null; then
    say "not a Debian/Ubuntu machine: install $* with your package manager, then re-run."; exit 1
  fi
  if ! as_root true; then
    say "missing $*. Run:  sudo apt-get update && sudo apt-get install -y $*"; exit 1
  fi
  say "installing $* (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }
postgres_trusts_us() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc 'select 1' >/dev/null; }

ensure_postgres() {
  command -v pg_ctlcluster >/dev/null || install_packages postgresql postgresql-contrib
  if ! postgres_ready; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    say "starting PostgreSQL $version"
    if as_root true; then
      pg_ctlcluster --skip-systemctl-redirect "$version" main start
    else
      say "PostgreSQL is stopped. Run:  sudo pg_ctlcluster --skip-systemctl-redirect $version main start"; exit 1
    fi
  fi
  wait_until "PostgreSQL on 127.0.0.1:$PG_PORT" postgres_ready
  if ! postgres_trusts_us; then
    say "PostgreSQL answers but user 'postgres' cannot log in from 127.0.0.1 without a password."
    say "Allow it for development (pg_hba.conf: 'host all postgres 127.0.0.1/32 trust') or set"
    say "LARIS_<SERVICE>_DATABASE_URL with credentials."; exit 1
  fi
}

rabbit_ready() { port_open "$AMQP_PORT" && rabbitmq-diagnostics -q check_port_connectivity; }

ensure_rabbitmq() {
  command -v rabbitmq-server >/dev/null || install_packages rabbitmq-server
  if ! port_open "$AMQP_PORT"; then
    say "starting RabbitMQ"
    if as_root true; then
      rabbitmq-server -detached
    else
      say "RabbitMQ is stopped. Run:  sudo rabbitmq-server -detached"; exit 1
    fi
  fi
  wait_until "RabbitMQ on 127.0.0.1:$AMQP_PORT" rabbit_ready
}

ensure_postgres
ensure_rabbitmq
say "PostgreSQL and RabbitMQ are up"
