"""A model of which source frame ffmpeg draws at each output frame, for one placement.

It follows ``render/filtergraph._overlay`` step by step, for source timestamps in ticks of
``1/tb`` s: ``trim`` ends the tile at the first frame past the last clip, ``select`` keeps
frames inside a clip, ``settb`` rescales to 1/90000 s (nearest, halves away from zero),
``setpts`` shifts each by its clip (the one with the last source start at or before it)
less the lead and rounds to a 90 kHz tick, ``fps`` is a port of
libavfilter's vf_fps.c (two-frame buffer, nearest rounding, EOF rounding), ``tpad`` adds
the lead back (black before it), and the overlay draws the tile where ``enabled`` holds.
Frames are named by their source timestamp; ``None`` means the canvas shows through,
``BLACK`` the padding before the lead. Comparisons are exact (no float noise at ties).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from mixdown.planning.plan import Clip
from mixdown.planning.seam import enabled

BLACK = -1
#: ``settb``'s time base, in which ``setpts`` and ``fps`` see the tile's timestamps.
TB = 90_000


def near(num: int, den: int) -> int:
    """num/den rounded to nearest, halves away from zero (AV_ROUND_NEAR_INF)."""
    q, r = divmod(abs(num), den)
    q += 2 * r >= den
    return q if num >= 0 else -q


def tile(
    clips: Sequence[Clip], frames: Sequence[int], file_end: int, fps: int, tb: int
) -> dict[int, int]:
    """Output frame index -> source frame (ticks) of the tile after ``tpad``."""
    lead = min(c.at for c in clips) * fps // 1000
    eof = next((t for t in frames if t * 1000 >= max(c.src.end for c in clips) * tb), file_end)
    kept = [t for t in frames if t < eof and any(_inside(c, t, tb) for c in clips)]
    slots = [(near(_mapped(clips, t, lead, fps, tb) * fps, TB), t) for t in kept]
    eof_slot = near(_mapped(clips, eof, lead, fps, tb) * fps, TB)
    return {slot + lead: t for slot, t in _fps(slots, eof_slot).items()}


def drawn(
    clips: Sequence[Clip], frames: Sequence[int], file_end: int, fps: int, tb: int, count: int
) -> list[int | None]:
    """What the placement shows at output frames ``0..count-1``."""
    if not clips:
        return [None] * count
    shown = tile(clips, frames, file_end, fps, tb)
    lead = min(c.at for c in clips) * fps // 1000
    out: list[int | None] = []
    for k in range(count):
        if not enabled(tuple(clips), k, fps):
            out.append(None)
        else:
            out.append(BLACK if k < lead else shown.get(k))
    return out


def _inside(c: Clip, t: int, tb: int) -> bool:
    return c.src.start * tb <= t * 1000 < c.src.end * tb


def _mapped(clips: Sequence[Clip], t: int, lead: int, fps: int, tb: int) -> int:
    """``settb`` then ``setpts``, in ticks of 1/``TB`` s: the shift of the clip with the last
    source start <= t, less the lead."""
    ordered = sorted(clips, key=lambda c: c.src.start)
    ticks = near(t * TB, tb)
    clip = ordered[0]
    for c in ordered:
        if ticks * 1000 >= c.src.start * TB:
            clip = c
    exact = ticks + Fraction((clip.at - clip.src.start) * TB, 1000) - Fraction(lead * TB, fps)
    return near(exact.numerator, exact.denominator)


def _fps(frames: list[tuple[int, int]], eof_slot: int) -> dict[int, int]:
    """vf_fps.c with ``start_time=0``: frames as (rounded output pts, name), in order."""
    out: dict[int, int] = {}
    pending = iter(frames)
    buffer: list[tuple[int, int]] = []
    next_pts = 0
    status = False
    while True:
        while len(buffer) < 2 and not status:
            frame = next(pending, None)
            if frame is None:
                status = True
            else:
                buffer.append(frame)
        if not buffer:
            return out
        if (len(buffer) == 2 and buffer[1][0] <= next_pts) or (status and eof_slot <= next_pts):
            buffer.pop(0)
        else:
            out[next_pts] = buffer[0][1]
            next_pts += 1
