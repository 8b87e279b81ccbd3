"""Blocking calls release the GIL: a Python thread keeps running while the engine works.

The engine imports a named pipe (FIFO) that a Python thread writes chunk by chunk. If the GIL
were held during the import, the writer could never run and the import could not read its
file; the thread's counter proves it ran while the call was in progress. No timing is asserted
(the pipeline's page timeout only bounds how long a broken build would take to fail).
"""

import json
import os
import threading
from pathlib import Path

import maestro


def test_a_python_thread_runs_during_an_import(engine: maestro.Engine, tmp_path: Path) -> None:
    n = 3000
    doc = json.dumps({"servers": [{"unique_id": f"s-{i}", "name": f"server {i}"} for i in range(n)]}).encode()
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    chunks = [doc[i : i + 4096] for i in range(0, len(doc), 4096)]
    written = {"chunks": 0}

    def writer() -> None:
        with open(fifo, "wb") as f:
            for c in chunks:
                f.write(c)
                f.flush()
                written["chunks"] += 1

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    result = engine.run(
        {
            "tenant": "acme",
            "pipeline": {"page_timeout": 20, "retry": {"max_attempts": 1, "initial_backoff": 100, "max_backoff": 100, "jitter": 0.0}},
            "sources": [{"type": "file", "connection": "pipe", "paths": [str(fifo)]}],
        },
        check=False,
    )
    if t.is_alive():  # unblock a writer still waiting for a reader, so the thread ends
        os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    t.join(timeout=30)
    (run,) = result["runs"]
    assert written["chunks"] == len(chunks) > 1, "the writer thread ran while the import was reading"
    assert run["status"] == "complete", run
    assert run["stats"]["changes"]["created"] == n

