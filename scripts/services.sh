#!/usr/bin/env bash
# Make sure the services and tools the test suite talks to are up, and export their addresses.
# Source it (`. scripts/services.sh`) so the exports reach the caller. Starts only what is
# missing; safe to run again.
set -u

say() { printf '[services] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port, seconds
  local i
  for i in $(seq 1 "$2"); do port_open "$1" && return 0; sleep 1; done
  return 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  if [ -z "${_apt_updated:-}" ]; then as_root apt-get update -qq >/dev/null 2>&1 || true; _apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL (trust auth on loopback).
if ! port_open 5432; then
  say "PostgreSQL is not listening on 127.0.0.1:5432; starting it"
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then apt_install postgresql; fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  wait_port 5432 30 || { say "PostgreSQL did not start: start it with pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"; return 1 2>/dev/null || exit 1; }
fi
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# Test schemas of earlier runs.
if command -v psql >/dev/null 2>&1; then
  psql "$DATABASE_URL" -qAt -c "SELECT 'DROP SCHEMA ' || nspname || ' CASCADE;' FROM pg_namespace WHERE nspname LIKE 'maestro_test_%' OR nspname LIKE 'bench_%'" 2>/dev/null \
    | psql "$DATABASE_URL" -q >/dev/null 2>&1 || true
fi

# RabbitMQ (guest/guest on loopback), for the scheduler's broker-backed job queue.
if ! port_open 5672; then
  say "RabbitMQ is not listening on 127.0.0.1:5672; starting it"
  if ! command -v rabbitmq-server >/dev/null 2>&1; then apt_install rabbitmq-server || say "could not install rabbitmq-server"; fi
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 as_root env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_port 5672 60 || say "RabbitMQ did not start: start it with RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached"
fi
export MAESTRO_BROKER_URL="${MAESTRO_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"

# rsvg-convert renders the graph SVGs in the graph tests.
if ! command -v rsvg-convert >/dev/null 2>&1; then
  say "installing librsvg2-bin (rsvg-convert)"
  apt_install librsvg2-bin || say "could not install librsvg2-bin"
fi

# OpenSSH server: the importer tests start their own sshd on a free loopback port (SFTP source).
if [ ! -x /usr/sbin/sshd ]; then
  say "installing openssh-server (sshd for the SSH importer tests)"
  apt_install openssh-server || say "could not install openssh-server"
fi

# Headless Chromium + chromedriver for the web page test (maestro-server/tests/browser.rs).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  say "installing chromium and chromium-driver"
  apt_install chromium chromium-driver || say "could not install chromium/chromium-driver"
fi

# moto's server: the AWS API on loopback, for the AWS provider tests; boto3 builds their scenario.
export MAESTRO_MOTO_URL="${MAESTRO_MOTO_URL:-http://127.0.0.1:5055}"
export MAESTRO_PYTHON="${MAESTRO_PYTHON:-python3}"
moto_port="${MAESTRO_MOTO_URL##*:}"
if ! "$MAESTRO_PYTHON" -c "import boto3, moto.server" >/dev/null 2>&1; then
  say "installing moto[server] and boto3 from PyPI"
  "$MAESTRO_PYTHON" -m pip install -q "moto[server]" boto3 >/dev/null 2>&1 || say "could not install moto/boto3"
fi
if ! port_open "$moto_port"; then
  say "starting moto's server on 127.0.0.1:$moto_port"
  nohup "$MAESTRO_PYTHON" -m moto.server -H 127.0.0.1 -p "$moto_port" >/tmp/maestro-moto.log 2>&1 &
  wait_port "$moto_port" 60 || say "moto's server did not start (see /tmp/maestro-moto.log)"
fi

# schemathesis fuzzes the HTTP API from its OpenAPI document (maestro-server/tests/schemathesis.rs).
if ! "$MAESTRO_PYTHON" -c "import schemathesis" >/dev/null 2>&1; then
  say "installing schemathesis from PyPI"
  "$MAESTRO_PYTHON" -m pip install -q schemathesis >/dev/null 2>&1 || say "could not install schemathesis"
fi
# NATS with JetStream on loopback, for the `nats` publisher tests.
if ! port_open 4222; then
  say "NATS is not listening on 127.0.0.1:4222; starting it (JetStream on)"
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then apt_install nats-server || say "could not install nats-server"; fi
  nats_bin="$(command -v nats-server 2>/dev/null || echo /usr/sbin/nats-server)"
  as_root mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec "$nats_bin" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
  wait_port 4222 20 || say "NATS did not start: start it with nats-server -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server &"
fi
export MAESTRO_NATS_URL="${MAESTRO_NATS_URL:-nats://127.0.0.1:4222}"

# Kafka: rdkafka's vendored librdkafka (maestro-providers feature `kafka`) builds with cmake and
# needs the curl and OpenSSL headers. The Kafka tests start their own tansu brokers (a
# Kafka-protocol server, memory storage, free loopback ports): only the binary is needed.
for pkg in cmake libcurl4-openssl-dev libssl-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { say "installing $pkg"; apt_install "$pkg" || say "could not install $pkg"; }
done
if [ -z "${MAESTRO_TANSU_BIN:-}" ]; then
  cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
  if command -v tansu >/dev/null 2>&1; then
    MAESTRO_TANSU_BIN="$(command -v tansu)"
  elif [ -x "$cargo_bin/tansu" ]; then
    MAESTRO_TANSU_BIN="$cargo_bin/tansu"
  else
    say "installing tansu: cargo install tansu --locked --features dynostore (about 10 minutes, once)"
    if cargo install tansu --locked --features dynostore >/tmp/maestro-tansu-install.log 2>&1; then
      MAESTRO_TANSU_BIN="$cargo_bin/tansu"
    else
      say "could not install tansu (see /tmp/maestro-tansu-install.log); the Kafka tests will fail"
    fi
  fi
fi
if [ -n "${MAESTRO_TANSU_BIN:-}" ]; then export MAESTRO_TANSU_BIN; fi
