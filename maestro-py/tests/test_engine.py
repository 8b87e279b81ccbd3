"""Each Engine method on a real SQLite file, with the demo inventory."""

import json
import sqlite3
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest

import maestro


def count_items(doc: dict) -> int:
    return sum(len(v) for v in doc.values() if isinstance(v, list))


def test_import_file_returns_the_run_report(engine: maestro.Engine, inventory: Path, demo_doc: dict) -> None:
    report = engine.import_file(inventory)
    assert report["status"] == "complete"
    assert report["tenant"] == "acme" and report["connection"] == "files" and report["provider"] == "file"
    assert report["stats"]["items"] == count_items(demo_doc)
    assert report["stats"]["changes"]["created"] == report["stats"]["items"]
    assert isinstance(report["started_at"], datetime) and report["started_at"].tzinfo is not None
    again = engine.import_file(inventory)
    assert again["stats"]["changes"]["unchanged"] == report["stats"]["items"]
    assert again["stats"]["changes"]["created"] == 0


def test_resources_iterate_lazily_in_pages(engine: maestro.Engine, inventory: Path, demo_doc: dict) -> None:
    engine.import_file(inventory)
    it = engine.resources(kind="server", page_size=7)
    assert isinstance(it, maestro.PageIter)
    first = next(it)
    assert first["kind"] == "server" and first["tenant"] == "acme"
    rest = list(it)
    servers = [first, *rest]
    assert len(servers) == len(demo_doc["servers"])
    assert len({s["native_id"] for s in servers}) == len(servers), "no row twice across pages"
    assert {s["native_id"] for s in servers} == {s["unique_id"] for s in demo_doc["servers"]}
    everything = list(engine.resources(page_size=50))
    assert len(everything) == count_items(demo_doc)
    assert list(engine.resources(kind="server", tenant="someone-else")) == []
    named = list(engine.resources(kind="server", text=servers[0]["name"]))
    assert servers[0]["native_id"] in {r["native_id"] for r in named}
    with pytest.raises(ValueError, match="page_size"):
        engine.resources(page_size=0)


def test_resource_by_dict_or_string_key(engine: maestro.Engine, inventory: Path) -> None:
    engine.import_file(inventory)
    server = next(engine.resources(kind="server"))
    assert engine.resource(server) == server
    assert engine.resource(server["key"]) == server
    assert engine.resource({**server, "native_id": "no-such-id"}) is None
    with pytest.raises(ValueError, match="tenant/connection/kind/native_id"):
        engine.resource("only/two")
    with pytest.raises(ValueError, match="key.native_id"):
        engine.resource({"tenant": "acme", "connection": "files", "kind": "server"})


def test_history_and_inventory_as_of_after_a_change(engine: maestro.Engine, inventory: Path, demo_doc: dict) -> None:
    engine.import_file(inventory)
    before_change = datetime.now(timezone.utc)
    removed = demo_doc["servers"].pop(0)
    app = demo_doc["applications"][0]
    old_language = app.get("language")
    app["language"] = "Rust"
    inventory.write_text(json.dumps(demo_doc))
    report = engine.import_file(inventory)
    assert report["stats"]["changes"]["updated"] == 1
    assert report["stats"]["deactivated"] == 1

    app_key = f"acme/files/application/{app['name']}"
    changes = list(engine.history(app_key))
    assert [c["op"] for c in changes] == ["created", "updated"]
    diff = changes[1]["diff"]
    assert any(d["path"].endswith("language") and d["new"] == "Rust" and d["old"] == old_language for d in diff), diff
    assert changes[1]["at"] >= before_change
    assert [c["op"] for c in engine.history(app_key, since=before_change)] == ["updated"]

    server_key = f"acme/files/server/{removed['unique_id']}"
    assert [c["op"] for c in engine.history(server_key)] == ["created", "deactivated"]
    assert engine.resource(server_key)["active"] is False

    then = {r["native_id"]: r for r in engine.inventory_as_of("acme", before_change)}
    assert then[removed["unique_id"]]["active"] is True
    assert then[app["name"]]["attributes"].get("language") == old_language
    now = {r["native_id"]: r for r in engine.inventory_as_of(None, datetime.now(timezone.utc), active=True)}
    assert removed["unique_id"] not in now
    assert now[app["name"]]["attributes"]["language"] == "Rust"
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.inventory_as_of("acme", datetime.now())


def test_user_fields_survive_a_reimport(engine: maestro.Engine, inventory: Path) -> None:
    engine.import_file(inventory)
    server = next(engine.resources(kind="server"))
    engine.set_user_fields(server, {"owner": "team-a", "notes": ["x"]})
    engine.import_file(inventory)
    assert engine.resource(server)["user_fields"] == {"owner": "team-a", "notes": ["x"]}


def test_runs_newest_first_and_run_report(engine: maestro.Engine, inventory: Path) -> None:
    first = engine.import_file(inventory)
    second = engine.import_file(inventory)
    other = engine.import_file(inventory, tenant="other")
    runs = list(engine.runs(page_size=1))
    assert [r["run_id"] for r in runs] == [second["run_id"], first["run_id"]]
    assert [r["run_id"] for r in engine.runs(tenant="other")] == [other["run_id"]]
    assert engine.run_report(first["run_id"]) == first
    assert engine.run_report("01a20b64-05d6-70ab-8726-519569d8061c") is None
    with pytest.raises(ValueError, match="not a UUID"):
        engine.run_report("nope")


def test_run_config_dict_delivers_to_a_jsonl_publisher(engine: maestro.Engine, inventory: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    result = engine.run(
        {
            "tenant": "acme",
            "sources": [{"type": "file", "connection": "cmdb", "paths": [str(inventory)]}],
            "publishers": [{"type": "jsonl", "name": "audit", "path": str(events)}],
        }
    )
    (run,) = result["runs"]
    assert run["status"] == "complete" and run["connection"] == "cmdb"
    (delivery,) = result["deliveries"]
    lines = events.read_text().splitlines()
    assert delivery["sink"] == "audit" and delivery["delivered"] == len(lines) > 0
    assert {json.loads(line)["kind"] for line in lines} >= {"resource.created", "run.finished"}
    (status,) = engine.outbox_status()
    assert status["sink"] == "audit" and status["backlog"] == 0 and status["delivered"] == len(lines)


def test_run_config_file(engine: maestro.Engine, inventory: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "maestro.yaml"
    cfg.write_text(f"tenant: acme\nsources:\n  - {{type: file, connection: yaml-files, paths: ['{inventory}']}}\n")
    result = engine.run(cfg)
    assert result["runs"][0]["connection"] == "yaml-files"
    assert len(list(engine.resources(connection="yaml-files"))) == result["runs"][0]["stats"]["items"]


def test_graph_svg_graphml_json(engine: maestro.Engine, inventory: Path, demo_doc: dict) -> None:
    engine.import_file(inventory)
    entry = demo_doc["applications"][0]["name"]
    g = engine.graph(apps=[entry])
    assert g.status == "finished"
    assert g.svg is not None and g.svg.startswith("<svg")
    assert entry in g.entries
    root = ET.fromstring(g.graphml or "")
    assert root.tag.endswith("graphml")
    nodes = (g.json or {})["nodes"]
    assert entry in {n["id"] for n in nodes}
    assert (g.info or {})["apps_total"] == len(nodes)
    nothing = engine.graph(apps=["no such app"])
    assert nothing.status == "warning" and nothing.svg is None and nothing.message
    infra = engine.graph(apps=[entry], kind="infra")
    assert infra.svg is not None and infra.svg.startswith("<svg")
    with pytest.raises(maestro.ConfigError, match="unknown graph kind") as e:
        engine.graph(kind="pie")
    assert e.value.problems[0][0] == "kind"


def test_data_is_in_the_sqlite_file(db_url: str, inventory: Path) -> None:
    engine = maestro.Engine(db_url)
    report = engine.import_file(inventory, tenant="t1")
    path = db_url.removeprefix("sqlite://")
    with sqlite3.connect(path) as con:
        (n,) = con.execute("SELECT count(*) FROM resources WHERE tenant = 't1'").fetchone()
    assert n == report["stats"]["items"]
