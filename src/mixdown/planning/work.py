"""A plan as work: the pieces that render apart, and the joins that put chunks together.
Pure, no I/O.

Each render of the plan is one piece, except an encoded mp4 long enough to cut (the mixed
video above all): its video is cut into chunks (``planning.chunking``) and its sound mixed
once, and a join lays the chunks end to end by stream copy and adds the sound. A piece needs
nothing but the plan and its own inputs, so pieces run in any order, side by side: on one
machine's lanes or as jobs spread over workers. A join runs once its pieces are done.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from mixdown.errors import InvalidParameter
from mixdown.planning.chunking import ChunkedRender, can_chunk, chunk_render, cut_points
from mixdown.planning.plan import Plan, Render, rebuild

WORK_VERSION = 1
#: A render is cut only when it gives at least this many chunks of the asked length:
#: a chunk and a join cost more than rendering a little longer in one piece.
_MIN_CHUNKS = 2
#: The chunk lengths a cluster picks from: a chunk renders its minute of a class in
#: seconds, and below ten seconds its own start (a seek, an encoder's warm-up) would weigh.
SHORTEST_CHUNK_MS, LONGEST_CHUNK_MS = 10_000, 60_000


def chunk_length(duration_ms: int, workers: int) -> int:
    """About two chunks per worker, so a class of any length spreads over the workers
    there are (two each evens out chunks of unequal cost), between the two bounds."""
    wanted = duration_ms // max(1, 2 * workers)
    return max(SHORTEST_CHUNK_MS, min(LONGEST_CHUNK_MS, wanted))


@dataclass(frozen=True)
class Piece:
    #: Unique in its graph: the name of the piece's first file.
    name: str
    #: The plan's render it renders, whole or a chunk of.
    source: int
    render: Render


@dataclass(frozen=True)
class Join:
    """One chunked output: its chunks (piece names, in order) and its sound."""

    source: int
    chunked: ChunkedRender
    chunks: tuple[str, ...]
    audio: str | None


@dataclass(frozen=True)
class WorkGraph:
    pieces: tuple[Piece, ...]
    joins: tuple[Join, ...]
    version: int = WORK_VERSION

    def piece(self, name: str) -> Piece:
        for piece in self.pieces:
            if piece.name == name:
                return piece
        raise KeyError(name)

    def whole(self, source: int) -> Piece | None:
        """The piece that renders the plan's render ``source`` whole; None if chunked."""
        joined = {j.source for j in self.joins}
        if source in joined:
            return None
        return next(p for p in self.pieces if p.source == source)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)

    @staticmethod
    def from_json(data: dict[str, Any]) -> WorkGraph:
        return rebuild(WorkGraph, data, WORK_VERSION, "work graph")


def work_graph(plan: Plan, chunk_ms: int | None, fps: int) -> WorkGraph:
    """The plan's renders as pieces; with ``chunk_ms``, each render that can be cut and
    lasts at least two chunks is cut into chunks of about that length."""
    pieces: list[Piece] = []
    joins: list[Join] = []
    for index, render in enumerate(plan.renders):
        chunked = _chunked(render, chunk_ms, fps) if chunk_ms else None
        if chunked is None:
            pieces.append(Piece(render.outputs[0].name, index, render))
            continue
        chunks = [Piece(c.render.outputs[0].name, index, c.render) for c in chunked.chunks]
        audio = None
        if chunked.audio is not None:
            audio = Piece(chunked.audio.outputs[0].name, index, chunked.audio)
        pieces += [*chunks, *([audio] if audio else [])]
        names = tuple(c.name for c in chunks)
        joins.append(Join(index, chunked, names, audio.name if audio else None))
    return WorkGraph(tuple(pieces), tuple(joins))


def _chunked(render: Render, chunk_ms: int, fps: int) -> ChunkedRender | None:
    count = render.duration // chunk_ms
    if count < _MIN_CHUNKS or not can_chunk(render):
        return None
    try:
        cuts = cut_points(render, count, fps)
        return chunk_render(render, cuts, fps)
    except InvalidParameter:
        # No cut keeps every frame as the whole render draws it: render it in one piece.
        return None
