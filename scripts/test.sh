#!/usr/bin/env bash
# The whole test suite, as CI runs it: services up, formatting, every Rust test (unit,
# integration against real SQLite/PostgreSQL/HTTP/moto, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh

if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "[test] cargo-nextest not found; installing it" >&2
  cargo install cargo-nextest --locked
fi

echo "[test] cargo fmt --check"
cargo fmt --all -- --check

echo "[test] unit and integration tests (DATABASE_URL, MAESTRO_BROKER_URL and MAESTRO_MOTO_URL point at the local services)"
cargo nextest run --workspace --features maestro-core/rabbitmq --no-fail-fast

echo "[test] doc tests"
cargo test --workspace --features maestro-core/rabbitmq --doc

echo "[test] Python: the wheel, its pytest suite with stubtest, the Flask and Celery examples"
bash scripts/test-python.sh
