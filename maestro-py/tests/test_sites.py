"""Site checks from Python: add sites, check them against a real loopback HTTP server (a Python
thread, so the checks only get answers if the engine releases the GIL), read the stored results."""

import json
import socket
import subprocess
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator, List

import pytest

import maestro


class Handler(BaseHTTPRequestHandler):
    seen: List[Dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Handler.seen.append({"path": self.path, "x-probe": self.headers.get("X-Probe", "")})
        if self.path == "/ok":
            code, body = 200, b"all ok"
        elif self.path == "/down":
            code, body = 503, b"down for maintenance"
        else:
            code, body = 404, b"no such page"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def sql(db_url: str, statement: str, *params: object) -> list:
    """Run one statement on the engine's SQLite file from ANOTHER process: two SQLite libraries
    (the engine's and Python's) in one process would break each other's POSIX locks."""
    script = (
        "import json, sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
        "rows = db.execute(sys.argv[2], json.loads(sys.argv[3])).fetchall(); db.commit(); print(json.dumps(rows))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, db_url.removeprefix("sqlite://"), statement, json.dumps(params)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(done.stdout)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_add_site_validates_and_lists(engine: maestro.Engine, server: str) -> None:
    site = engine.add_site(
        f"{server}/ok",
        regexp="all ok",
        conditions=["[STATUS] == 200"],
        interval_secs=30,
        timeout_secs=2.5,
        headers={"X-Probe": "maestro"},
    )
    assert site["id"] > 0 and site["tenant"] == "acme" and site["url"] == f"{server}/ok"
    assert site["regexp"] == "all ok" and site["conditions"] == ["[STATUS] == 200"]
    assert site["interval_secs"] == 30 and site["timeout_ms"] == 2500 and site["method"] == "GET"
    assert site["headers"] == {"X-Probe": "maestro"} and site["enabled"] is True
    other = engine.add_site(f"{server}/down", tenant="other")
    assert other["tenant"] == "other" and other["id"] != site["id"]
    assert engine.sites() == [site]
    assert engine.sites(tenant="other") == [other]
    assert engine.sites(tenant="nobody") == []


def test_invalid_sites_raise_config_error_with_every_field(engine: maestro.Engine) -> None:
    with pytest.raises(maestro.ConfigError) as e:
        engine.add_site("http://127.0.0.1:1/", regexp="(unclosed", conditions=["[STATUS] == 200", "[STATUS] =< 200"])
    paths = [p for p, _ in e.value.problems]
    assert paths == ["regexp", "conditions[1]"]
    assert "invalid regular expression" in e.value.problems[0][1]
    with pytest.raises(maestro.ConfigError) as e:
        engine.add_site("ftp://example.com/", method="NOT A METHOD")
    assert [p for p, _ in e.value.problems] == ["url", "method"]
    with pytest.raises(maestro.ConfigError) as e:
        engine.add_site("http://127.0.0.1:1/", timeout_secs=0)
    assert [p for p, _ in e.value.problems] == ["timeout_secs"]
    assert engine.sites() == [], "nothing invalid was stored"


def test_check_sites_checks_every_site_and_stores_results(engine: maestro.Engine, server: str, db_url: str) -> None:
    ok = engine.add_site(f"{server}/ok", regexp="all ok", headers={"X-Probe": "maestro"})
    no_match = engine.add_site(f"{server}/ok", regexp="^nothing like this$")
    down = engine.add_site(f"{server}/down")
    down_expected = engine.add_site(f"{server}/down", conditions=["[STATUS] == 503", "[BODY] == pat(*maintenance*)"])
    refused = engine.add_site(f"http://127.0.0.1:{closed_port()}/", timeout_secs=5)
    engine.add_site(f"{server}/ok", tenant="other")

    summary = engine.check_sites()

    assert summary["checked"] == 5 and summary["failed"] == 3 and summary["stored"] == 5
    assert summary["duplicates"] == 0 and summary["invalid"] == []
    by_id = {r["site_id"]: r for r in summary["results"]}
    assert [r["site_id"] for r in summary["results"]] == sorted(by_id), "results come by site id"
    assert set(by_id) == {ok["id"], no_match["id"], down["id"], down_expected["id"], refused["id"]}

    r = by_id[ok["id"]]
    assert (r["status_code"], r["success"], r["has_regexp"], r["error"]) == (200, True, True, None)
    assert r["url"] == f"{server}/ok" and r["tenant"] == "acme"
    assert isinstance(r["response_time_ms"], float) and r["response_time_ms"] >= 0
    assert isinstance(r["checked_at"], datetime) and r["checked_at"].utcoffset() == timezone.utc.utcoffset(None)
    assert abs((datetime.now(timezone.utc) - r["checked_at"]).total_seconds()) < 600
    r = by_id[no_match["id"]]
    assert (r["status_code"], r["success"], r["has_regexp"]) == (200, False, False)
    r = by_id[down["id"]]
    assert (r["status_code"], r["success"], r["has_regexp"]) == (503, False, None)
    r = by_id[down_expected["id"]]
    assert (r["status_code"], r["success"]) == (503, True)
    assert r["conditions"] == [
        {"condition": "[STATUS] == 503", "success": True},
        {"condition": "[BODY] == pat(*maintenance*)", "success": True},
    ]
    r = by_id[refused["id"]]
    assert r["status_code"] is None and r["success"] is False and r["error"]

    assert {"path": "/ok", "x-probe": "maestro"} in Handler.seen, "the site's headers were sent"
    assert sum(1 for s in Handler.seen if s["path"] == "/ok") == 2, "the other tenant's site was not checked"

    # Each result was stored with its `site.check` outbox event.
    events = [json.loads(p) for (p,) in sql(db_url, "SELECT payload FROM outbox_events WHERE kind = 'site.check'")]
    assert sorted(e["site_id"] for e in events) == sorted(by_id)
    assert {e["site_id"]: e["status_code"] for e in events}[down["id"]] == 503


def test_site_checks_lists_results_newest_first(engine: maestro.Engine, server: str) -> None:
    ok = engine.add_site(f"{server}/ok", regexp="all ok")
    down = engine.add_site(f"{server}/down")
    first = engine.check_sites()
    second = engine.check_sites(concurrency=1)
    assert first["stored"] == 2 and second["stored"] == 2

    checks = engine.site_checks(ok["id"])
    assert len(checks) == 2
    assert [c["checked_at"] for c in checks] == [second["results"][0]["checked_at"], first["results"][0]["checked_at"]]
    assert checks[0]["checked_at"] > checks[1]["checked_at"]
    assert all(c["site_id"] == ok["id"] and c["status_code"] == 200 and c["success"] for c in checks)
    assert checks[0] == second["results"][0], "the stored result is the returned one"

    downs = engine.site_checks(down["id"], limit=1)
    assert len(downs) == 1 and downs[0]["status_code"] == 503 and downs[0]["success"] is False
    assert downs[0]["checked_at"] == second["results"][1]["checked_at"]
    assert engine.site_checks(ok["id"], tenant="other") == []
    assert engine.site_checks(999_999) == []
    with pytest.raises(ValueError, match="limit"):
        engine.site_checks(ok["id"], limit=0)


def test_check_sites_without_sites_and_bad_concurrency(engine: maestro.Engine) -> None:
    summary = engine.check_sites()
    assert (summary["checked"], summary["failed"], summary["stored"], summary["results"]) == (0, 0, 0, [])
    with pytest.raises(maestro.ConfigError) as e:
        engine.check_sites(concurrency=0)
    assert [p for p, _ in e.value.problems] == ["concurrency"]


def test_sites_on_a_reopened_database(db_url: str, server: str) -> None:
    site = maestro.Engine(db_url, tenant="acme").add_site(f"{server}/ok")
    maestro.Engine(db_url, tenant="acme").check_sites()
    again = maestro.Engine(db_url, tenant="acme")
    assert again.sites() == [site]
    (check,) = again.site_checks(site["id"])
    assert check["status_code"] == 200 and check["success"] is True


def test_check_sites_skips_disabled_and_lists_invalid_stored_sites(engine: maestro.Engine, server: str, db_url: str) -> None:
    ok = engine.add_site(f"{server}/ok")
    disabled = engine.add_site(f"{server}/down")
    broken = engine.add_site(f"{server}/down")
    # Another writer (an older release, a hand edit) leaves a disabled site and an invalid one.
    sql(db_url, "UPDATE sites SET enabled = 0 WHERE id = ?", disabled["id"])
    sql(db_url, "UPDATE sites SET regexp = '(unclosed' WHERE id = ?", broken["id"])
    assert [s["enabled"] for s in engine.sites()] == [True, False, True]

    summary = engine.check_sites()

    assert summary["checked"] == 1 and [r["site_id"] for r in summary["results"]] == [ok["id"]]
    (invalid,) = summary["invalid"]
    assert invalid["site_id"] == broken["id"] and invalid["url"] == f"{server}/down"
    assert [p for p, _ in invalid["problems"]] == ["regexp"]
    assert engine.site_checks(disabled["id"]) == [] and engine.site_checks(broken["id"]) == []
    assert not any(s["path"] == "/down" for s in Handler.seen)
