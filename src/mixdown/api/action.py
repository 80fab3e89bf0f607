"""What an action is: a parameter shape and a handler run in one store transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from mixdown.settings import Settings
from mixdown.store.database import Database
from mixdown.store.models import App
from mixdown.store.outcomes import Link
from mixdown.tiw.schema import Fields


class UrlChecks(Protocol):
    """Which URLs handlers may accept (``mixdown.service.url_policy.UrlPolicy``); each
    check raises ApiError naming the refused field."""

    def manifest(self, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of an import manifest with every media URL checked and resolved."""
        ...

    def params(self, data: dict[str, Any]) -> None:
        """Check and resolve the filler image of ``Concat`` in place."""
        ...

    def callback_url(self, url: str) -> None:
        """Refuse a malformed or private callback URL."""
        ...


@dataclass(frozen=True)
class Services:
    """What handlers reach beyond the store; built once by the service."""

    policy: UrlChecks
    settings: Settings
    #: The download URL of a committed file (``storage.outputs.Outputs.link``).
    link: Link
    submit_import: Callable[[str], None]
    submit_generation: Callable[[str], None]
    notify_callbacks: Callable[[], None]
    #: The shortest AutoStopTimeout StartOnlineRecord accepts (TIW: 300 s; less for tests).
    auto_stop_min_s: int = 300


@dataclass
class ActionContext:
    session: Session
    app: App
    request_id: str
    now_ms: int
    services: Services
    #: Run after the transaction commits (queueing jobs that must see committed rows).
    after_commit: list[Callable[[], None]] = field(default_factory=list)


Handler = Callable[[ActionContext, dict[str, Any]], dict[str, Any]]
#: Slow, pure checks run after the app is authorised but outside the write transaction,
#: so they never hold the store's lock: (database, services, SdkAppId, parameters).
Prepare = Callable[[Database, Services, int, dict[str, Any]], None]


@dataclass(frozen=True)
class Action:
    name: str
    shape: Fields
    handler: Handler
    #: The parameter naming the app (DescribeRunningTasks spells it ``SdkAppID``).
    app_param: str = "SdkAppId"
    prepare: Prepare | None = None
