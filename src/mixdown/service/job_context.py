"""What the jobs of one process work with, built in one place for ``serve`` and ``worker``:
the output store and its download links, the engine behind the URL policy, the clock."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from mixdown.jobs.context import JobContext
from mixdown.jobs.engine import Engine, LocalEngine
from mixdown.render.source import Reach
from mixdown.service.config import ServiceConfig
from mixdown.service.url_policy import UrlPolicy
from mixdown.settings import Settings
from mixdown.storage.connection import S3Settings
from mixdown.storage.location import open_store
from mixdown.storage.objects import ObjectStore
from mixdown.storage.outputs import Outputs
from mixdown.store.database import Database


def url_policy(config: ServiceConfig) -> UrlPolicy:
    return UrlPolicy(config.ingest_roots, allow_private=config.allow_private_urls)


def job_context(
    config: ServiceConfig,
    settings: Settings,
    db: Database,
    policy: UrlPolicy,
    *,
    notify: Callable[[], None],
    engine: Engine | None = None,
    clock: Callable[[], float] = time.time,
) -> JobContext:
    store = open_store(config.storage, os.environ, config.public_base_url)
    reach = _reach(policy, store)
    return JobContext(
        db=db,
        outputs=Outputs(store, config.scratch_dir, config.base_url),
        engine=engine or LocalEngine(settings, reach),
        reach=reach,
        notify=notify,
        clock=clock,
    )


def _reach(policy: UrlPolicy, store: ObjectStore) -> Reach:
    """Media reads checked by the host policy; ``s3://`` media read with the store's client
    when the outputs are in S3, else with the AWS settings when there are any, and tried
    again through an S3 outage as long as the store's calls are."""
    s3 = S3Settings.from_env(os.environ)
    client = getattr(store, "client", None)
    if client is None:
        client = s3.client() if s3.configured else None
    return Reach(policy.fetch_guard, client, s3.retry())
