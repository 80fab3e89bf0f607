"""A mix render cut into chunks that render apart and join by stream copy. Pure, no I/O.

Each chunk is a video-only Render on its own timeline (0 = its cut) whose placements
(``planning/seam``) draw exactly the frames the whole render draws in that window; the
audio is one Render over the whole timeline, mixed once, so it has no seam at all.

Cuts sit on the output frame grid at integer ms (``grid_ms``). ``chunk_render`` refuses a
cut where a chunk would turn an overlay on at another frame than the whole render does
(``seam_mismatches``: ffmpeg compares times in doubles); ``cut_points`` picks near-equal
cuts that it accepts. A chunk's inputs seek (``render/command``) to a whole
``SEEK_GRID_MS``, where the usual time bases are exact.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from dataclasses import dataclass, replace
from typing import Any

from mixdown.domain.timing import Span
from mixdown.errors import InvalidParameter
from mixdown.planning.plan import Clip, OutputPlan, Placement, Render, rebuild
from mixdown.planning.seam import enabled, grid_ms, placement_in

CHUNKS_VERSION = 1
#: A chunk's input seek (``render/command``: its first source time less a margin) lands on
#: a whole multiple of this: exact in the usual time bases (1/1000, 1/90000, x264's 1/15360
#: at 15 fps), so frames keep the timestamps a render without that seek gives them.
SEEK_GRID_MS = 200
#: Grid steps searched on each side of an ideal cut for a safe one.
SEARCH_STEPS = 60


@dataclass(frozen=True)
class Chunk:
    #: Where the chunk lies on the output's timeline.
    span: Span
    #: Video only, on the chunk's own timeline ``0..span.length``.
    render: Render


@dataclass(frozen=True)
class ChunkedRender:
    """One mp4 output as video chunks (joined by stream copy) plus its audio, mixed once."""

    output: OutputPlan
    fps: int
    chunks: tuple[Chunk, ...]
    audio: Render | None
    version: int = CHUNKS_VERSION

    @property
    def duration(self) -> int:
        return self.chunks[-1].span.end

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    @staticmethod
    def from_json(data: dict[str, Any]) -> ChunkedRender:
        return rebuild(ChunkedRender, data, CHUNKS_VERSION, "chunks")


def chunk_render(render: Render, cuts: tuple[int, ...] | list[int], fps: int) -> ChunkedRender:
    """Cut ``render`` (one mp4 output with video) at ``cuts`` (ms, inside, on the grid)."""
    output = _the_output(render)
    bounds = _bounds(render.duration, tuple(cuts), fps)
    windows = [Span(lo, hi) for lo, hi in itertools.pairwise(bounds)]
    bad = [f"{w.start} ms: {why}" for w in windows[1:] for why in seam_mismatches(render, w, fps)]
    if bad:
        raise InvalidParameter("cuts would change frames: " + "; ".join(bad[:3]))
    stem = output.name.removesuffix(".mp4")
    chunks = tuple(
        _chunk(output, w, fps, f"{stem}.chunk{i:03d}.mp4") for i, w in enumerate(windows)
    )
    audio = None
    if output.audio is not None:
        sound = replace(output, name=f"{stem}.audio.mp4", video=None)
        audio = Render((sound,), render.duration)
    return ChunkedRender(output, fps, chunks, audio)


def cut_points(render: Render, count: int, fps: int) -> tuple[int, ...]:
    """``count - 1`` cuts on the grid near ``i * duration / count`` that ``chunk_render``
    accepts (fewer when the render is too short for ``count`` chunks of a grid step)."""
    _the_output(render)
    step = grid_ms(fps)
    ideals = sorted(
        {round(i * render.duration / count / step) * step for i in range(1, count)}
        - {0, render.duration}
    )
    cuts: list[int] = []
    for ideal, after in zip(ideals, [*ideals[1:], render.duration], strict=True):
        lowest = (cuts[-1] if cuts else 0) + step
        reach = min(render.duration, after + SEARCH_STEPS * step)
        for cut in _candidates(ideal, step):
            if lowest <= cut < render.duration and not seam_mismatches(
                render, Span(cut, reach), fps
            ):
                cuts.append(cut)
                break
        else:
            raise InvalidParameter(f"no cut near {ideal} ms keeps every frame as it is")
    return tuple(cuts)


def _candidates(ideal: int, step: int) -> list[int]:
    out = [ideal]
    for n in range(1, SEARCH_STEPS + 1):
        out += [ideal - n * step, ideal + n * step]
    return out


def can_chunk(render: Render) -> bool:
    """Whether ``render`` is one encoded mp4 output with a picture, which chunks can make."""
    try:
        _the_output(render)
    except InvalidParameter:
        return False
    return True


def _the_output(render: Render) -> OutputPlan:
    if len(render.outputs) != 1:
        raise InvalidParameter("only a render with one output can be chunked")
    output = render.outputs[0]
    encoded = output.copy is None and not output.splice
    if output.format != "mp4" or output.video is None or not encoded:
        raise InvalidParameter(f"{output.name}: only an encoded mp4 video can be chunked")
    return output


def _bounds(duration: int, cuts: tuple[int, ...], fps: int) -> list[int]:
    step = grid_ms(fps)
    for cut in cuts:
        if cut % step:
            raise InvalidParameter(f"cut {cut} ms is not on the {step} ms frame grid")
    bounds = [0, *cuts, duration]
    if any(lo >= hi for lo, hi in itertools.pairwise(bounds)):
        raise InvalidParameter(f"cuts {list(cuts)} must increase inside 0..{duration} ms")
    return bounds


def _chunk(output: OutputPlan, window: Span, fps: int, name: str) -> Chunk:
    video = output.video
    assert video is not None
    kept = [p for p in (placement_in(p, window, fps) for p in video.placements) if p is not None]
    # The first chunk starts where the render does: its inputs seek as the render's do.
    placements = _seek_anchored(kept) if window.start > 0 else tuple(kept)
    part = replace(
        output,
        name=name,
        play_time=output.play_time + window.start,
        duration=window.length,
        video=replace(video, placements=placements),
        audio=None,
    )
    return Chunk(window, Render((part,), window.length))


def _seek_anchored(placements: list[Placement]) -> tuple[Placement, ...]:
    """Start each input's earliest piece on a whole ``SEEK_GRID_MS`` (see the constant)."""
    earliest: dict[int, tuple[int, int]] = {}  # input -> (src ms, placement index)
    for i, p in enumerate(placements):
        start = min(c.src.start for c in p.clips)
        if p.input not in earliest or start < earliest[p.input][0]:
            earliest[p.input] = (start, i)
    out = list(placements)
    for start, i in earliest.values():
        if start % SEEK_GRID_MS:
            p = out[i]
            at = min(c.at for c in p.clips)
            # Zero length: it selects no frame, and its place adds no drawn frame either.
            anchor = Clip(
                p.input, Span(start - start % SEEK_GRID_MS, start - start % SEEK_GRID_MS), at
            )
            out[i] = replace(p, clips=(anchor, *p.clips))
    return tuple(out)


def seam_mismatches(render: Render, window: Span, fps: int) -> list[str]:
    """Placements that the chunk ``window`` would enable differently from ``render``."""
    video = _the_output(render).video
    assert video is not None
    first = window.start * fps // 1000
    count = -(-window.length * fps // 1000)
    out = []
    for index, p in enumerate(video.placements):
        piece = placement_in(p, window, fps)
        mine = piece.clips if piece is not None else ()
        frames = sorted(k for k in _frames_near(p.clips, window, fps) if first <= k < first + count)
        for frame in frames:
            if enabled(p.clips, frame, fps) != enabled(mine, frame - first, fps):
                out.append(f"placement {index} at {frame * 1000 // fps} ms")
                break
    return out


def _frames_near(clips: tuple[Clip, ...], window: Span, fps: int) -> set[int]:
    """Frames next to the window's start and to clip ends in it, where a test can tip."""
    frames = {window.start * fps // 1000}
    for c in clips:
        for ms in (c.at, c.end):
            if window.start <= ms <= window.end:
                k = ms * fps // 1000
                frames.update((k - 1, k, k + 1, k + 2))
    return frames
