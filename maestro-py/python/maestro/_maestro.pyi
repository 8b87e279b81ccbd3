"""Type stubs of the Rust extension module ``maestro._maestro`` (checked with mypy.stubtest)."""

import os
from datetime import datetime
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union, final

__version__: str

_StrPath = Union[str, "os.PathLike[str]"]

class MaestroError(Exception):
    """Base class of every error raised by maestro."""

class ConfigError(MaestroError):
    """A configuration is invalid. ``problems`` lists every ``(field path, message)`` pair."""

    problems: List[Tuple[str, str]]

class ProviderError(MaestroError):
    """A provider (or an input file) failed. ``result`` holds the run report(s) when a run failed."""

    result: Dict[str, Any]

class StorageError(MaestroError):
    """The database failed or the request to it was invalid."""

class PublishError(MaestroError):
    """Delivering events to a sink failed."""

def checksum(raw_json: str, volatile: List[str] = ..., version: str = "1") -> str: ...
def analyse_tix_batch(path: _StrPath, selection: bool = True) -> Dict[str, Any]: ...

@final
class PageIter:
    """A lazily paged iterator of dict rows."""

    def __iter__(self) -> Iterator[Dict[str, Any]]: ...
    def __next__(self) -> Dict[str, Any]: ...

@final
class Graph:
    @property
    def status(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def svg(self) -> Optional[str]: ...
    @property
    def graphml(self) -> Optional[str]: ...
    @property
    def json(self) -> Optional[Dict[str, Any]]: ...
    @property
    def info(self) -> Optional[Dict[str, Any]]: ...
    @property
    def entries(self) -> List[str]: ...
    @property
    def warnings(self) -> List[str]: ...

@final
class Engine:
    def __new__(cls, database_url: str, tenant: str = "default", worker_threads: int = 2) -> "Engine": ...
    @property
    def database_url(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    def run(self, config: Union[Dict[str, Any], _StrPath], check: bool = True) -> Dict[str, Any]: ...
    def import_file(
        self,
        path: _StrPath,
        tenant: Optional[str] = None,
        connection: str = "files",
        entity: Optional[str] = None,
        check: bool = True,
    ) -> Dict[str, Any]: ...
    def resources(
        self,
        kind: Optional[str] = None,
        active: Optional[bool] = None,
        tenant: Optional[str] = None,
        connection: Optional[str] = None,
        text: Optional[str] = None,
        scope: Optional[str] = None,
        tag: Optional[Tuple[str, Optional[str]]] = None,
        page_size: int = 500,
    ) -> PageIter: ...
    def resource(self, key: Union[str, Dict[str, Any]]) -> Optional[Dict[str, Any]]: ...
    def history(
        self,
        key: Union[str, Dict[str, Any]],
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        page_size: int = 500,
    ) -> PageIter: ...
    def inventory_as_of(
        self,
        tenant: Optional[str],
        when: datetime,
        kind: Optional[str] = None,
        active: Optional[bool] = None,
        page_size: int = 500,
    ) -> PageIter: ...
    def set_user_fields(self, key: Union[str, Dict[str, Any]], fields: Dict[str, Any]) -> None: ...
    def runs(self, tenant: Optional[str] = None, page_size: int = 100) -> PageIter: ...
    def run_report(self, run_id: str) -> Optional[Dict[str, Any]]: ...
    def outbox_status(self) -> List[Dict[str, Any]]: ...
    def dead_letters(self, sink: Optional[str] = None, page_size: int = 500) -> PageIter: ...
    def replay_dead_letter(self, id: int) -> None: ...
    def graph(
        self,
        tenant: Optional[str] = None,
        apps: List[str] = ...,
        systems: List[str] = ...,
        clients: List[str] = ...,
        kind: str = "business",
    ) -> Graph: ...
    def process_tix(self, config: Dict[str, Any]) -> Dict[str, Any]: ...
    def process_tix_installation(self, user: str, installation: str, config: Dict[str, Any]) -> Dict[str, Any]: ...
    def analyse_tix_batch(self, path: _StrPath, selection: bool = True) -> Dict[str, Any]: ...
    def add_site(
        self,
        url: str,
        regexp: Optional[str] = None,
        conditions: Optional[List[str]] = None,
        interval_secs: int = 600,
        timeout_secs: float = 10.0,
        method: str = "GET",
        headers: Optional[Dict[str, str]] = None,
        tenant: Optional[str] = None,
    ) -> Dict[str, Any]: ...
    def sites(self, tenant: Optional[str] = None) -> List[Dict[str, Any]]: ...
    def check_sites(self, tenant: Optional[str] = None, concurrency: int = 64) -> Dict[str, Any]: ...
    def site_checks(self, site_id: int, tenant: Optional[str] = None, limit: int = 50) -> List[Dict[str, Any]]: ...
