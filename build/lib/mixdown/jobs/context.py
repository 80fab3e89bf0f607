"""What every job needs: the store, the outputs, the engine, the clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mixdown.jobs.engine import Engine
from mixdown.render.source import Reach
from mixdown.storage.outputs import Outputs
from mixdown.store.database import Database


def _nothing() -> None:
    return None


@dataclass
class JobContext:
    db: Database
    #: Where finished files are kept, and the URLs they are downloaded from.
    outputs: Outputs
    engine: Engine
    #: What media the jobs may read (the URL policy, S3 access): a piece reads its own.
    reach: Reach = field(default_factory=Reach)
    #: Set when the service shuts down: running renders stop and are re-run on restart.
    stopping: threading.Event = field(default_factory=threading.Event)
    #: Called after a transaction that queued callbacks (wakes the dispatcher).
    notify: Callable[[], None] = _nothing
    clock: Callable[[], float] = time.time
    #: A task interrupted this many times (crash loops) fails instead of running again.
    max_attempts: int = 3

    def now_ms(self) -> int:
        return int(self.clock() * 1000)
