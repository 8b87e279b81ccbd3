#!/usr/bin/env bash
# The Python side, as CI runs it: `pip install ./maestro-py` into a fresh venv (smoke test) and a venv
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

# The wheel is built the way a user installs it: `pip install ./maestro-py` (PEP 517, maturin
# from PyPI in pip's isolated build env), first into a brand-new venv (the new-user path, checked
# with an import and a small pipeline), then into the test venv. MATURIN_PEP517_ARGS picks the
# cargo profile: dev by default, so the build reuses the debug build of the workspace.
profile="${MAESTRO_WHEEL_PROFILE:-dev}"
export MATURIN_PEP517_ARGS="--profile $profile"
FRESH=target/py-fresh
rm -rf "$FRESH"
"$PYTHON" -m venv "$FRESH"
say "pip install ./maestro-py into a fresh venv ($FRESH, cargo profile $profile)"
"$FRESH/bin/pip" install -q ./maestro-py
say "smoke test of the fresh install"
(cd "$FRESH" && bin/python - "$OLDPWD/examples/data/demo-inventory.json" <<'PY'
import sys, tempfile, os, maestro
db = os.path.join(tempfile.mkdtemp(), "smoke.db")
engine = maestro.Engine("sqlite://" + db)
report = engine.import_file(sys.argv[1], tenant="smoke")
servers = list(engine.resources(kind="server", tenant="smoke"))
assert servers, "the demo inventory has servers"
print(f"maestro {maestro.__version__}: imported the demo inventory, {len(servers)} servers")
PY
)
say "pip install ./maestro-py into $VENV"
"$VENV/bin/pip" install -q --force-reinstall --no-deps ./maestro-py

say "pytest: maestro-py/tests (with stubtest), examples/flask, examples/celery"
export MAESTRO_PYTHON_VENV="$VENV"
"$VENV/bin/python" -m pytest -q maestro-py/tests examples/flask examples/celery
