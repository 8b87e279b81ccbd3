#!/usr/bin/env bash
# The Python side, as CI runs it: build the maestro wheel once with maturin, install it in a venv
# under target/ (reused between runs), then run the pytest suites of maestro-py/tests (with mypy's
# stubtest), examples/flask and examples/celery (which starts a real Celery worker on RabbitMQ).
#
#   bash scripts/test-python.sh            # dev-profile wheel (reuses the debug build of the deps)
#   MAESTRO_WHEEL_PROFILE=release bash scripts/test-python.sh
#
# Needs DATABASE_URL (PostgreSQL) and MAESTRO_BROKER_URL (RabbitMQ): sourced from
# scripts/services.sh when DATABASE_URL is not set.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DATABASE_URL:-}" ]; then . scripts/services.sh; fi

say() { printf '[test-python] %s\n' "$*" >&2; }
PYTHON="${MAESTRO_PYTHON:-python3}"
VENV=target/py-venv
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import maturin, pytest, mypy, celery, flask" >/dev/null 2>&1; then
  say "installing maturin, pytest, mypy, celery and flask into $VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q "maturin>=1.5,<2" pytest mypy celery flask
fi

profile=()
[ "${MAESTRO_WHEEL_PROFILE:-dev}" = release ] && profile=(--release)
say "building the wheel (maturin build ${profile[*]:-})"
rm -rf target/wheels
PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" build "${profile[@]}" -m maestro-py/Cargo.toml -o target/wheels
say "installing the wheel"
"$VENV/bin/pip" install -q --force-reinstall --no-deps target/wheels/maestro-*.whl

say "pytest: maestro-py/tests (with stubtest), examples/flask, examples/celery"
export MAESTRO_PYTHON_VENV="$VENV"
"$VENV/bin/python" -m pytest -q maestro-py/tests examples/flask examples/celery
