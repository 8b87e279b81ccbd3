"""Start a REAL Celery worker (RabbitMQ broker) and check the effect of the crawl and of the site
checks (against a loopback HTTP server run by the test) in the SQLite file.

Needs RabbitMQ on loopback: MAESTRO_BROKER_URL or CELERY_BROKER_URL (default
amqp://guest:guest@127.0.0.1:5672//). Start it with
`RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached` or `. scripts/services.sh`.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List
from urllib.parse import urlparse

import pytest

import maestro

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "data" / "demo-inventory.json"
BROKER = os.environ.get("CELERY_BROKER_URL") or os.environ.get("MAESTRO_BROKER_URL") or "amqp://guest:guest@127.0.0.1:5672//"
START_HINT = "start RabbitMQ with `RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached` (or `. scripts/services.sh`) and set MAESTRO_BROKER_URL"
# Upper bounds so that a broken worker fails the test instead of hanging it; nothing is timed.
PATIENCE = 120.0


def broker_reachable() -> None:
    u = urlparse(BROKER)
    try:
        socket.create_connection((u.hostname or "127.0.0.1", u.port or 5672), timeout=5).close()
    except OSError as e:
        pytest.fail(f"RabbitMQ is not reachable at {u.hostname}:{u.port or 5672} ({e}): {START_HINT}")


def start_worker(tmp_path: Path, queue: str, beat: bool, extra_env: dict) -> subprocess.Popen:
    env = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER,
        "MAESTRO_CELERY_QUEUE": queue,
        "MAESTRO_DATABASE_URL": f"sqlite://{tmp_path / 'maestro.db'}",
        "MAESTRO_TENANT": "celery",
        "MAESTRO_CRAWL_FILE": str(DEMO),
        **extra_env,
    }
    cmd = [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=solo", "-Q", queue, "--loglevel=INFO",
           "-n", f"{queue}@%h", "--without-gossip", "--without-mingle"]
    if beat:
        cmd += ["-B", "-s", str(tmp_path / "beat-schedule")]
    log = open(tmp_path / "worker.log", "w")
    return subprocess.Popen(cmd, cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(what: str, check, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if check():
            return
        if proc.poll() is not None:
            pytest.fail(f"the worker exited ({proc.returncode}) before {what}:\n{log.read_text()}")
        time.sleep(0.5)
    pytest.fail(f"gave up waiting for {what}:\n{log.read_text()}")


def runs_in(tmp_path: Path) -> List[dict]:
    return list(maestro.Engine(f"sqlite://{tmp_path / 'maestro.db'}", tenant="celery").runs())


def engine_in(tmp_path: Path) -> maestro.Engine:
    return maestro.Engine(f"sqlite://{tmp_path / 'maestro.db'}", tenant="celery")


class Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        code, body = (200, b"all ok") if self.path == "/ok" else (503, b"down for maintenance")
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sites(worker_dir: Path) -> Iterator[Dict[str, dict]]:
    """A loopback HTTP server (`/ok`: 200 "all ok", `/down`: 503) and two sites of tenant `celery`
    on it, stored before the worker starts."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    engine = engine_in(worker_dir)
    try:
        yield {
            "ok": engine.add_site(f"{base}/ok", regexp="all ok"),
            "down": engine.add_site(f"{base}/down", timeout_secs=5),
        }
    finally:
        httpd.shutdown()
        httpd.server_close()


def assert_checked(worker_dir: Path, sites: Dict[str, dict], at_least: int) -> None:
    engine = engine_in(worker_dir)
    ok = engine.site_checks(sites["ok"]["id"])
    down = engine.site_checks(sites["down"]["id"])
    assert len(ok) >= at_least and len(down) >= at_least
    assert all(c["status_code"] == 200 and c["success"] is True and c["has_regexp"] is True for c in ok), ok
    assert all(c["status_code"] == 503 and c["success"] is False and c["error"] is None for c in down), down
    assert [c["checked_at"] for c in ok] == sorted((c["checked_at"] for c in ok), reverse=True), "newest first"


def checks_stored(worker_dir: Path, sites: Dict[str, dict], at_least: int) -> bool:
    engine = engine_in(worker_dir)
    return all(len(engine.site_checks(s["id"])) >= at_least for s in sites.values())


@pytest.fixture
def worker_dir(tmp_path: Path) -> Iterator[Path]:
    broker_reachable()
    # Create the database (migrations) before the worker opens it.
    assert runs_in(tmp_path) == []
    yield tmp_path


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_a_worker_runs_the_crawl_task(worker_dir: Path) -> None:
    queue = f"maestro-test-{uuid.uuid4().hex[:8]}"
    proc = start_worker(worker_dir, queue, beat=False, extra_env={})
    log = worker_dir / "worker.log"
    try:
        wait_for("the worker to be ready", lambda: "ready." in log.read_text(), proc, log)
        sys.path.insert(0, str(HERE))
        import tasks

        tasks.app.conf.broker_url = BROKER
        tasks.crawl.apply_async(kwargs={"connection": "celery-files"}, queue=queue)
        wait_for("the crawl's run in the database", lambda: len(runs_in(worker_dir)) >= 1, proc, log)
    finally:
        stop(proc)
    (run,) = runs_in(worker_dir)
    assert run["status"] == "complete" and run["connection"] == "celery-files"
    engine = maestro.Engine(f"sqlite://{worker_dir / 'maestro.db'}", tenant="celery")
    servers = list(engine.resources(kind="server", connection="celery-files"))
    assert len(servers) == len(json.loads(DEMO.read_text())["servers"])
    assert "maestro.crawl" in log.read_text() and "succeeded" in log.read_text()


def test_a_worker_runs_the_site_check_task(worker_dir: Path, sites: Dict[str, dict]) -> None:
    queue = f"maestro-test-{uuid.uuid4().hex[:8]}"
    proc = start_worker(worker_dir, queue, beat=False, extra_env={})
    log = worker_dir / "worker.log"
    try:
        wait_for("the worker to be ready", lambda: "ready." in log.read_text(), proc, log)
        sys.path.insert(0, str(HERE))
        import tasks

        tasks.app.conf.broker_url = BROKER
        tasks.check_sites.apply_async(queue=queue)
        wait_for("the check results in the database", lambda: checks_stored(worker_dir, sites, 1), proc, log)
    finally:
        stop(proc)
    assert_checked(worker_dir, sites, 1)
    assert "maestro.check_sites" in log.read_text() and "succeeded" in log.read_text()
    assert runs_in(worker_dir) == [], "only the site checks ran"


def test_the_beat_schedule_fires_the_crawl_and_the_site_checks(worker_dir: Path, sites: Dict[str, dict]) -> None:
    queue = f"maestro-test-{uuid.uuid4().hex[:8]}"
    proc = start_worker(worker_dir, queue, beat=True, extra_env={"MAESTRO_CRAWL_EVERY": "1", "MAESTRO_CHECK_EVERY": "1"})
    log = worker_dir / "worker.log"
    try:
        wait_for("two periodic crawls", lambda: len(runs_in(worker_dir)) >= 2, proc, log)
        wait_for("two periodic site checks of each site", lambda: checks_stored(worker_dir, sites, 2), proc, log)
    finally:
        stop(proc)
    runs = runs_in(worker_dir)
    assert all(r["status"] == "complete" for r in runs)
    assert runs[0]["stats"]["changes"]["unchanged"] == runs[0]["stats"]["items"], "the second crawl changed nothing"
    assert_checked(worker_dir, sites, 2)
