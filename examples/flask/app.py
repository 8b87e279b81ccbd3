"""A small Flask app that serves maestro's inventory as JSON and a dependency graph as SVG.

Run with (from the repository root):

    pip install ./maestro-py flask
    python -c "import maestro; maestro.Engine('sqlite://maestro.db', tenant='demo').import_file('examples/data/demo-inventory.json')"
    MAESTRO_DATABASE_URL=sqlite://maestro.db MAESTRO_TENANT=demo flask --app examples/flask/app.py run

then open http://127.0.0.1:5000/inventory?kind=server and
http://127.0.0.1:5000/graph.svg?apps=Landing%20Pages.

Each request calls the engine, which releases the GIL while it reads: other request threads
keep running.
"""

import itertools
import os
from datetime import datetime
from typing import Any, Dict, Optional

from flask import Flask, Response, jsonify, request

import maestro


def _plain(row: Dict[str, Any]) -> Dict[str, Any]:
    """Datetimes as ISO 8601 (Flask's default would write HTTP dates)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def create_app(database_url: Optional[str] = None, tenant: Optional[str] = None) -> Flask:
    app = Flask(__name__)
    engine = maestro.Engine(
        database_url or os.environ.get("MAESTRO_DATABASE_URL", "sqlite://maestro.db"),
        tenant=tenant or os.environ.get("MAESTRO_TENANT", "default"),
    )
    app.extensions["maestro"] = engine

    @app.get("/inventory")
    def inventory() -> Response:
        active = request.args.get("active")
        limit = min(int(request.args.get("limit", "100")), 10_000)
        rows = engine.resources(
            kind=request.args.get("kind"),
            active=None if active is None else active.lower() == "true",
            text=request.args.get("q"),
            page_size=max(1, min(limit, 1000)),
        )
        return jsonify([_plain(r) for r in itertools.islice(rows, limit)])

    @app.get("/inventory/<connection>/<kind>/<path:native_id>")
    def resource(connection: str, kind: str, native_id: str) -> Any:
        key = {"tenant": engine.tenant, "connection": connection, "kind": kind, "native_id": native_id}
        found = engine.resource(key)
        if found is None:
            return jsonify({"error": f"no {kind} `{native_id}` in connection `{connection}`"}), 404
        found = _plain(found)
        found["history"] = [_plain(c) for c in engine.history(key)]
        return jsonify(found)

    @app.get("/graph.svg")
    def graph_svg() -> Any:
        apps = [a for a in request.args.get("apps", "").split(",") if a]
        graph = engine.graph(apps=apps, kind=request.args.get("kind", "business"))
        if graph.svg is None:
            return jsonify({"status": graph.status, "message": graph.message}), 404
        return Response(graph.svg, mimetype="image/svg+xml")

    @app.get("/runs")
    def runs() -> Response:
        return jsonify([_plain(r) for r in itertools.islice(engine.runs(), 20)])

    @app.errorhandler(maestro.ConfigError)
    def config_error(e: maestro.ConfigError) -> Any:
        return jsonify({"error": str(e), "problems": e.problems}), 400

    @app.errorhandler(maestro.MaestroError)
    def maestro_error(e: maestro.MaestroError) -> Any:
        app.logger.error("maestro failed: %s", e)
        return jsonify({"error": "the inventory engine failed; see the server log"}), 500

    return app


if __name__ == "__main__":
    create_app().run()
