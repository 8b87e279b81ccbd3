"""The same engine on PostgreSQL (DATABASE_URL), in a schema of its own."""

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

import maestro

HOW_TO = (
    "set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres); start PostgreSQL with "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or `. scripts/services.sh`"
)


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.fail(f"DATABASE_URL is not set to a PostgreSQL URL: {HOW_TO}")
    if shutil.which("psql") is None:
        pytest.fail("psql is needed to create the test schema: apt-get install postgresql-client")
    schema = f"maestro_test_py_{uuid.uuid4().hex[:12]}"
    done = subprocess.run(["psql", url, "-qc", f"CREATE SCHEMA {schema}"], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"cannot reach PostgreSQL at DATABASE_URL ({done.stderr.strip()}): {HOW_TO}")
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options=-c%20search_path%3D{schema}"
    subprocess.run(["psql", url, "-qc", f"DROP SCHEMA {schema} CASCADE"], capture_output=True)


def test_import_history_and_runs_on_postgres(pg_url: str, inventory: Path, demo_doc: dict) -> None:
    engine = maestro.Engine(pg_url, tenant="pg")
    report = engine.import_file(inventory)
    assert report["status"] == "complete"
    servers = list(engine.resources(kind="server", page_size=25))
    assert len(servers) == len(demo_doc["servers"])
    assert [c["op"] for c in engine.history(servers[0])] == ["created"]
    again = engine.import_file(inventory)
    assert [r["run_id"] for r in engine.runs()] == [again["run_id"], report["run_id"]]


def test_repr_redacts_the_password(pg_url: str) -> None:
    with_password = pg_url.replace("postgres://postgres@", "postgres://postgres:s3cret@", 1)
    if with_password == pg_url:
        pytest.fail("this test expects DATABASE_URL of the form postgres://postgres@host…")
    engine = maestro.Engine(with_password)  # trust auth on loopback ignores the password
    assert "s3cret" not in repr(engine) and "***" in repr(engine)
    assert "s3cret" not in engine.database_url
