"""Start a REAL Celery worker (RabbitMQ broker) and check the crawl's effect in the SQLite file.

Needs RabbitMQ on loopback: MAESTRO_BROKER_URL or CELERY_BROKER_URL (default
amqp://guest:guest@127.0.0.1:5672//). Start it with
`RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached` or `. scripts/services.sh`.
"""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator, List
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


def test_the_beat_schedule_fires_the_crawl_and_the_site_check_placeholder(worker_dir: Path) -> None:
    queue = f"maestro-test-{uuid.uuid4().hex[:8]}"
    proc = start_worker(worker_dir, queue, beat=True, extra_env={"MAESTRO_CRAWL_EVERY": "1", "MAESTRO_CHECK_EVERY": "1"})
    log = worker_dir / "worker.log"
    try:
        wait_for("two periodic crawls", lambda: len(runs_in(worker_dir)) >= 2, proc, log)
        wait_for("the site-check task", lambda: "maestro.check_sites" in log.read_text() and "succeeded" in log.read_text(), proc, log)
    finally:
        stop(proc)
    runs = runs_in(worker_dir)
    assert all(r["status"] == "complete" for r in runs)
    assert runs[0]["stats"]["changes"]["unchanged"] == runs[0]["stats"]["items"], "the second crawl changed nothing"
