"""Shared fixtures: a real SQLite file per test, the repository's demo data and TiX archives."""

import json
from pathlib import Path

import pytest

import maestro

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "data" / "demo-inventory.json"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'maestro.db'}"


@pytest.fixture
def engine(db_url: str) -> maestro.Engine:
    return maestro.Engine(db_url, tenant="acme")


@pytest.fixture
def demo_doc() -> dict:
    return json.loads(DEMO.read_text())


@pytest.fixture
def inventory(tmp_path: Path, demo_doc: dict) -> Path:
    """A writable copy of the demo inventory (tests change it between imports)."""
    p = tmp_path / "inventory.json"
    p.write_text(json.dumps(demo_doc))
    return p

