"""A Celery app whose periodic tasks call maestro: a crawl (file import) and the HTTP site checks
of every enabled site of the tenant (sites are added with `Engine.add_site`, the CLI's `maestro
sites add` or the API's `POST /sites`).

Run with (from this directory; RabbitMQ on loopback):

    pip install ./maestro-py celery          # from the repository root
    export MAESTRO_DATABASE_URL=sqlite:///tmp/maestro.db
    export MAESTRO_CRAWL_FILE=$PWD/../data/demo-inventory.json
    celery -A tasks worker -B --pool=solo --loglevel=INFO

Settings (environment):
- broker: CELERY_BROKER_URL, else MAESTRO_BROKER_URL, else amqp://guest:guest@127.0.0.1:5672//
- MAESTRO_DATABASE_URL (default sqlite://maestro.db), MAESTRO_TENANT (default `default`)
- MAESTRO_CRAWL_FILE: the inventory file the crawl imports; MAESTRO_CRAWL_EVERY: seconds
  between crawls (default 300); MAESTRO_CHECK_EVERY: seconds between site checks (default 60)
- MAESTRO_CELERY_QUEUE: the queue (default `maestro`)

Each worker process opens one `maestro.Engine` (lazily, after any fork). The engine releases
the GIL while it works, so the worker's other threads (heartbeats, the embedded beat) keep
running.
"""

import os
from typing import Any, Dict, Optional

from celery import Celery

import maestro

BROKER = (
    os.environ.get("CELERY_BROKER_URL")
    or os.environ.get("MAESTRO_BROKER_URL")
    or "amqp://guest:guest@127.0.0.1:5672//"
)
QUEUE = os.environ.get("MAESTRO_CELERY_QUEUE", "maestro")

app = Celery("maestro_example", broker=BROKER)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "crawl": {"task": "maestro.crawl", "schedule": float(os.environ.get("MAESTRO_CRAWL_EVERY", "300"))},
        "site-checks": {"task": "maestro.check_sites", "schedule": float(os.environ.get("MAESTRO_CHECK_EVERY", "60"))},
    },
)

_engine: Optional[maestro.Engine] = None


def engine() -> maestro.Engine:
    global _engine
    if _engine is None:
        _engine = maestro.Engine(
            os.environ.get("MAESTRO_DATABASE_URL", "sqlite://maestro.db"),
            tenant=os.environ.get("MAESTRO_TENANT", "default"),
        )
    return _engine


@app.task(name="maestro.crawl")
def crawl(path: Optional[str] = None, connection: str = "files") -> Dict[str, Any]:
    """Import the inventory file (the crawl) and return a summary of the run."""
    path = path or os.environ["MAESTRO_CRAWL_FILE"]
    report = engine().import_file(path, connection=connection)
    return {"run_id": report["run_id"], "status": report["status"], "stats": report["stats"]}


@app.task(name="maestro.check_sites")
def check_sites(concurrency: int = 64) -> Dict[str, Any]:
    """Check every enabled site of the tenant now; results and their `site.check` events are
    stored in the database. Returns the counts and one line per site."""
    summary = engine().check_sites(concurrency=concurrency)
    return {
        "checked": summary["checked"],
        "failed": summary["failed"],
        "stored": summary["stored"],
        "results": [
            {"site_id": r["site_id"], "status_code": r["status_code"], "success": r["success"], "error": r["error"]}
            for r in summary["results"]
        ],
    }
