"""The Flask example with Flask's test client, on a real SQLite file filled by the wheel."""

import json
import sys
from pathlib import Path

import pytest

import maestro

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app import create_app  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo-inventory.json"


@pytest.fixture
def client(tmp_path: Path):
    url = f"sqlite://{tmp_path / 'maestro.db'}"
    maestro.Engine(url, tenant="demo").import_file(DEMO)
    app = create_app(url, tenant="demo")
    app.config["TESTING"] = True
    return app.test_client()


def test_inventory_as_json(client) -> None:
    doc = json.loads(DEMO.read_text())
    r = client.get("/inventory?kind=server&limit=1000")
    assert r.status_code == 200
    rows = r.get_json()
    assert len(rows) == len(doc["servers"])
    assert {row["native_id"] for row in rows} == {s["unique_id"] for s in doc["servers"]}
    assert rows[0]["first_seen"].endswith("+00:00")
    assert len(client.get("/inventory?limit=5").get_json()) == 5


def test_one_resource_with_history_and_404(client) -> None:
    server = client.get("/inventory?kind=server&limit=1").get_json()[0]
    r = client.get(f"/inventory/files/server/{server['native_id']}")
    assert r.status_code == 200
    assert [c["op"] for c in r.get_json()["history"]] == ["created"]
    assert client.get("/inventory/files/server/no-such-server").status_code == 404


def test_graph_svg(client) -> None:
    doc = json.loads(DEMO.read_text())
    r = client.get("/graph.svg", query_string={"apps": doc["applications"][0]["name"]})
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert r.get_data(as_text=True).startswith("<svg")
    assert client.get("/graph.svg?apps=nothing-here").status_code == 404


def test_bad_graph_kind_is_a_400_naming_the_field(client) -> None:
    r = client.get("/graph.svg?kind=pie")
    assert r.status_code == 400
    assert r.get_json()["problems"][0][0] == "kind"


def test_runs(client) -> None:
    runs = client.get("/runs").get_json()
    assert len(runs) == 1 and runs[0]["status"] == "complete"
