"""A generation spread over a cluster's workers: the same work graph the embedded service
runs on its lanes (``planning.work``), its pieces here run as jobs of their own.

- ``SpreadJob`` (the cluster's generation job) claims an attempt, plans, and records the
  attempt's pieces; after the commit it queues one piece job each.
- ``PieceJob`` renders one piece (a whole output, or a chunk or the sound of a long one)
  and keeps its files under ``<SdkAppId>/<TaskId>/<token>/parts/<run>/``. It counts only
  while it is the piece's current run of the task's current attempt; the run that counts
  the last piece queues the publishing.
- ``PublishJob`` joins the chunks, reads every output back, keeps the final files under
  the attempt's token and commits the task FINISHED with its callback, in one transaction.

A failure of any piece fails the task with its reason; a piece or a publishing whose worker
died is run again by the sweeper, and a late run of either finds nothing left to do.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mixdown.domain.media import probes_from_json
from mixdown.domain.outcome import Failure
from mixdown.errors import RECORD_FAILED, Cancelled, MixdownError
from mixdown.jobs.context import JobContext
from mixdown.jobs.pipeline import GenerationJob
from mixdown.planning.plan import Plan
from mixdown.planning.reporting import DecoderMessages
from mixdown.planning.work import WorkGraph, chunk_length, work_graph
from mixdown.render.command import temp_path
from mixdown.render.executor import Rendered
from mixdown.settings import Settings
from mixdown.storage.outputs import Attempt
from mixdown.store import pieces, tasks
from mixdown.store.identifiers import new_token
from mixdown.store.models import PROCESSING, GenerationTask
from mixdown.store.outcomes import recording_of
from mixdown.store.pieces import PieceKey
from mixdown.store.recordings import recording_by_id
from mixdown.tiw import documents

_log = logging.getLogger("mixdown.jobs")

#: Job kinds of a spread generation (the generation job itself keeps its name).
PIECE = "piece"
PUBLISH = "publish"
#: Queues a job: (kind, key) (``JobQueue.defer``).
Defer = Callable[[str, str], None]


@dataclass(frozen=True)
class Work:
    """What a spread attempt renders, as the task row keeps it."""

    plan: Plan
    graph: WorkGraph
    #: The attempt's output token: parts and final files are kept under it.
    token: str

    def to_json(self) -> dict[str, Any]:
        return {"plan": self.plan.to_json(), "graph": self.graph.to_json(), "token": self.token}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Work:
        return Work(Plan.from_json(data["plan"]), WorkGraph.from_json(data["graph"]), data["token"])


class SpreadJob:
    """Claim an attempt, plan it and queue its pieces."""

    def __init__(
        self, ctx: JobContext, defer: Defer, settings: Settings, workers: Callable[[], int]
    ) -> None:
        self.ctx, self.defer, self.settings = ctx, defer, settings
        #: How many workers take jobs now (the chunk length follows, unless forced).
        self.workers = workers
        self.attempts = GenerationJob(ctx)

    def __call__(self, task_id: str) -> None:
        from mixdown.generation import plan_for

        ctx, attempt_id = self.ctx, uuid.uuid4().hex
        begun = self.attempts.begin(task_id, attempt_id)
        if begun is None:
            return
        try:
            recording = recording_of(begun.recording)
            params = documents.read_params(begun.task.params)
            probes = probes_from_json(begun.recording.probes)
            plan = plan_for(recording, params, probes, self.settings)
            chunk_ms = self.settings.chunk_ms or chunk_length(plan.total_time, self.workers())
            graph = work_graph(plan, chunk_ms, self.settings.encoding.fps)
        except MixdownError as exc:
            _fail(self.attempts, task_id, attempt_id, begun.started, Failure(exc.code, exc.message))
            return
        work = Work(plan, graph, new_token())
        with ctx.db.transaction() as s:
            task = tasks.current_attempt(s, task_id, attempt_id)
            if task is None:
                return
            names = [piece.name for piece in graph.pieces]
            keys = pieces.fan_out(s, task, names, work.to_json(), ctx.now_ms())
        for key in keys:
            self.defer(PIECE, str(key))
        _log.info("generation spread", extra={"task_id": task_id, "pieces": len(keys)})


class PieceJob:
    """Render one piece and keep its files; the last piece queues the publishing."""

    def __init__(self, ctx: JobContext, defer: Defer, settings: Settings) -> None:
        self.ctx, self.defer, self.settings = ctx, defer, settings
        self.attempts = GenerationJob(ctx)

    def __call__(self, raw_key: str) -> None:
        from mixdown.generation import render_piece

        ctx, key, run_id = self.ctx, PieceKey.parse(raw_key), uuid.uuid4().hex
        if key is None:
            return
        with ctx.db.transaction() as s:
            claimed_ms = ctx.now_ms()
            claimed = pieces.claim(s, key, run_id, claimed_ms)
            if claimed is None:
                return
            task, runs = claimed
            work, probes_json, started = _work_of(s, task)
        attempt = Attempt(task.sdk_app_id, key.task_id, work.token)
        if runs > ctx.max_attempts:  # its workers keep dying: a poison piece fails its task
            message = f"{key.name}: gave up after {ctx.max_attempts} interrupted runs"
            failure = Failure(RECORD_FAILED, message)
            _fail(self.attempts, key.task_id, key.attempt_id, started, failure, attempt)
            return
        out_dir = ctx.outputs.scratch / run_id
        try:
            piece = work.graph.piece(key.name)
            done = render_piece(
                work.plan,
                piece.render,
                probes_from_json(probes_json),
                out_dir,
                self.settings,
                reach=ctx.reach,
                progress=lambda _fraction: None,
                cancel=ctx.stopping,
            )
            facts = _kept(ctx, attempt, run_id, done)
            # When and how long, for operators and the scale bench's model.
            facts |= {"claimed_ms": claimed_ms, "run_ms": ctx.now_ms() - claimed_ms}
        except Cancelled:
            if ctx.stopping.is_set():  # handed back: the next worker renders it
                with ctx.db.transaction() as s:
                    pieces.give_back(s, key, run_id)
                return
            raise
        except MixdownError as exc:
            failure = Failure(exc.code, f"{key.name}: {exc.message}")
            _fail(self.attempts, key.task_id, key.attempt_id, started, failure, attempt)
            return
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        with ctx.db.transaction() as s:
            left = pieces.finish(s, key, run_id, facts, ctx.now_ms())
        if left is None:  # a newer run or attempt took over: these files count for nothing
            ctx.outputs.store.delete_prefix(_run_prefix(attempt, run_id))
        elif left == 0:
            self.defer(PUBLISH, key.task_id)


class PublishJob:
    """Join, read back, keep and commit: the task's outputs appear all at once."""

    def __init__(self, ctx: JobContext, settings: Settings) -> None:
        self.ctx, self.settings = ctx, settings
        self.attempts = GenerationJob(ctx)

    def __call__(self, task_id: str) -> None:
        from mixdown.generation import publish_pieces

        ctx = self.ctx
        with ctx.db.transaction() as s:
            task = tasks.task_by_id(s, task_id)
            if task is None or task.status != PROCESSING or task.pieces_left != 0:
                return
            assert task.attempt_id is not None
            work, probes_json, started = _work_of(s, task)
            facts = pieces.done(s, task_id, task.attempt_id)
            attempt_id, stored = task.attempt_id, recording_by_id(s, task.recording_id)
        assert stored is not None
        attempt = Attempt(task.sdk_app_id, task_id, work.token)
        out_dir = ctx.outputs.scratch / f"publish-{uuid.uuid4().hex}"
        out_dir.mkdir(parents=True)
        try:
            rendered = {name: _fetched(ctx, work, name, f, out_dir) for name, f in facts.items()}
            result = publish_pieces(
                work.plan,
                work.graph,
                recording_of(stored),
                probes_from_json(probes_json),
                rendered,
                out_dir,
                self.settings,
                ctx.stopping,
            )
            ctx.outputs.keep(attempt, [out_dir / v.url for v in result.videos])
        except MixdownError as exc:
            if isinstance(exc, Cancelled) and ctx.stopping.is_set():
                return  # handed back: the next worker publishes
            failure = Failure(exc.code, exc.message)
            _fail(self.attempts, task_id, attempt_id, started, failure, attempt)
            return
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        with ctx.db.transaction() as s:
            current = tasks.current_attempt(s, task_id, attempt_id)
            if current is None:  # another attempt took over, or this one was published
                return
            self.attempts.conclude(s, current, started, result, work.token)
        ctx.outputs.store.delete_prefix(f"{attempt.prefix}/parts")
        self.attempts.concluded(attempt, result, current.attempts)


def _work_of(s: Any, task: GenerationTask) -> tuple[Work, dict[str, Any] | None, dict[str, Any]]:
    """The spread attempt's work, its recording's probes and the start event's data."""
    recording = recording_by_id(s, task.recording_id)
    assert recording is not None and task.work is not None
    started = documents.generation_started(
        task.task_id, recording.task_id, recording.room_id, recording.group_id
    )
    return Work.from_json(task.work), recording.probes, started


def _run_prefix(attempt: Attempt, run_id: str) -> str:
    return f"{attempt.prefix}/parts/{run_id}"


def _kept(ctx: JobContext, attempt: Attempt, run_id: str, done: Rendered) -> dict[str, Any]:
    """Keep a run's files in the store; the facts the publishing needs of them."""
    files = {}
    for output, temp in done.written:
        key = f"{_run_prefix(attempt, run_id)}/{output.name}"
        ctx.outputs.store.put(key, temp)
        files[output.name] = key
    return {"files": files, "method": done.method, "decoding": _decoding_json(done.decoding)}


def _fetched(
    ctx: JobContext, work: Work, name: str, facts: dict[str, Any], out_dir: Path
) -> Rendered:
    """A done piece's files, fetched under their ``.part`` names, as the executor left them."""
    render = work.graph.piece(name).render
    written = []
    for output in render.outputs:
        temp = temp_path(out_dir, output)
        ctx.outputs.store.get(facts["files"][output.name], temp)
        written.append((output, temp))
    return Rendered(written, facts["method"], _decoding(facts["decoding"]))


def _decoding_json(messages: DecoderMessages) -> dict[str, Any]:
    return {
        "by_input": [[index, count] for index, count in messages.by_input.items()],
        "unattributed": [[codec, list(inputs), n] for codec, inputs, n in messages.unattributed],
    }


def _decoding(data: dict[str, Any]) -> DecoderMessages:
    return DecoderMessages(
        {int(i): int(n) for i, n in data["by_input"]},
        tuple(
            (str(c), tuple(int(i) for i in inputs), int(n)) for c, inputs, n in data["unattributed"]
        ),
    )


def _fail(
    attempts: GenerationJob,
    task_id: str,
    attempt_id: str,
    started: dict[str, Any],
    failure: Failure,
    spread: Attempt | None = None,
) -> None:
    """The attempt's verdict, unless another attempt took the task over meanwhile; the
    files its pieces kept (``spread``) go with it."""
    ctx = attempts.ctx
    with ctx.db.transaction() as s:
        current = tasks.current_attempt(s, task_id, attempt_id)
        if current is None:
            return
        attempts.conclude(s, current, started, failure, None)
        current_attempts = current.attempts
    if spread is not None:
        ctx.outputs.discard(spread)
    attempts.concluded(Attempt(current.sdk_app_id, task_id, ""), failure, current_attempts)
