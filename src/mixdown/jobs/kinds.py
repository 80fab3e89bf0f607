"""The kinds of job, by name: what runs one for a key (the id of the row it works on), how
its lease is renewed, which rows' leases lapsed, and whether a run failed.

Both queues run the same kinds: the in-process one of the embedded service and the cluster's
on PostgreSQL. A new kind (a chunk of a mix, say) is one more entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mixdown.jobs.context import JobContext
from mixdown.jobs.importer import GENERATION_KIND, ImportJob
from mixdown.jobs.pipeline import GenerationJob
from mixdown.jobs.spread import PIECE, PUBLISH, Defer, PieceJob, PublishJob, SpreadJob
from mixdown.settings import Settings
from mixdown.store import job_rows, pieces
from mixdown.store.database import Database

#: Probing an imported recording's media (key: the recording's TaskId).
IMPORT = "import"
#: One whole generation task (key: its TaskId).
GENERATION = GENERATION_KIND


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable[[str], None]
    #: Writes the heartbeat of the key's row: (database, key, now in ms).
    renew: Callable[[Database, str, int], None]
    #: Keys of unfinished rows not renewed since a time: (database, epoch ms).
    lapsed: Callable[[Database, int], list[str]]
    #: Whether the key's row ended in failure (for the failure count).
    failed: Callable[[Database, str], bool]
    #: Jobs of this kind the in-process queue runs side by side.
    threads: int = 1


def cluster_kinds(
    ctx: JobContext, defer: Defer, settings: Settings, workers: Callable[[], int]
) -> tuple[JobKind, ...]:
    """A cluster's kinds: imports as in the embedded service; a generation spread over
    workers as pieces, then published (``jobs.spread``)."""
    imports = service_kinds(ctx, defer)[0]
    return (
        imports,
        JobKind(
            GENERATION,
            SpreadJob(ctx, defer, settings, workers),
            job_rows.renew_task,
            job_rows.lapsed_tasks,
            job_rows.task_failed,
        ),
        JobKind(PIECE, PieceJob(ctx, defer, settings), pieces.renew, pieces.lapsed, pieces.failed),
        JobKind(
            PUBLISH,
            PublishJob(ctx, settings),
            job_rows.renew_task,
            job_rows.lapsed_publishing,
            job_rows.task_failed,
        ),
    )


def service_kinds(
    ctx: JobContext, defer: Defer, generation_threads: int = 1
) -> tuple[JobKind, ...]:
    return (
        JobKind(
            IMPORT,
            ImportJob(ctx, defer),
            job_rows.renew_recording,
            job_rows.lapsed_recordings,
            job_rows.recording_failed,
        ),
        JobKind(
            GENERATION,
            GenerationJob(ctx),
            job_rows.renew_task,
            job_rows.lapsed_tasks,
            job_rows.task_failed,
            threads=max(1, generation_threads),
        ),
    )
