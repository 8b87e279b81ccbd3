"""maestro: the Rust inventory engine, from Python.

>>> import maestro
>>> engine = maestro.Engine("sqlite:///maestro.db")          # doctest: +SKIP
>>> report = engine.import_file("inventory.json", tenant="acme")  # doctest: +SKIP
>>> [r["name"] for r in engine.resources(kind="server", tenant="acme")]  # doctest: +SKIP

Every call releases the GIL while the engine works, so Flask request threads and Celery
worker threads keep running. Errors are ``MaestroError`` subclasses: ``ConfigError``
(with ``problems``: every ``(field path, message)``), ``ProviderError``, ``StorageError``
and ``PublishError``.
"""

from maestro._maestro import (
    ConfigError,
    Engine,
    Graph,
    MaestroError,
    PageIter,
    ProviderError,
    PublishError,
    StorageError,
    __version__,
    analyse_tix_batch,
    checksum,
)

__all__ = [
    "ConfigError",
    "Engine",
    "Graph",
    "MaestroError",
    "PageIter",
    "ProviderError",
    "PublishError",
    "StorageError",
    "__version__",
    "analyse_tix_batch",
    "checksum",
]
