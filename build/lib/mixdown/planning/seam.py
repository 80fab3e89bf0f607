"""One placement inside a chunk's window: the pieces that draw what the whole render draws.

What a single render draws at output frame K, for one placement (``render/filtergraph``,
``_overlay``):

* the overlay is on when ``between(t, at, end)`` holds for a clip, ``t`` = ``K * (1/fps)``
  in doubles, end included (``enabled``);
* the tile shows the *last* selected source frame whose time, shifted by its clip and
  rounded to the nearest frame by ``fps``, is <= K, or the tile's first frame when none is:
  a frame from before a cut (long before, in a slow source or across a gap between clips)
  or from after a chunk's end may be the one shown;
* the tile ends (the canvas shows through) at the frame where its ``trim`` stops.

So a chunk's placement holds, besides its clips cut to the window at their true shift:

* **lookback** slices: the last ``MARGIN_MS`` of the placement's media before the cut, in
  slices shorter than half a frame all placed on one chunk frame, so that each lands there
  and the last wins as in the single render: frame 0 when the tile is drawn at the cut,
  else a frame before its next clip starts (past that frame's time, so that no slice turns
  the overlay on); a zero-length *anchor* keeps the shift of a clip that ends at the cut,
  for the frame that ends its tile;
* **lookahead** pieces: the first ``MARGIN_MS`` of its media after the window, at their true
  place beyond the chunk's end: never drawn, they keep the tile alive to the chunk's last
  frame, and give it the later first frame the single render would show;
* a clip that the single render turns on one frame late (the doubles above tip at a start
  on the grid) starts as late in the chunk (``_late``).

Pure, integer ms. Cuts are on the output frame grid (``grid_ms``).
"""

from __future__ import annotations

import math
from dataclasses import replace

from mixdown.domain.timing import Span
from mixdown.planning.plan import Clip, Placement

#: How much of a placement's media a chunk keeps before and after its window (gaps between
#: clips do not count). A source with no frame in that much media before a cut shows its
#: next frame there instead of its stale one; a tile whose first frame comes later than
#: that after a chunk's end shows nothing in the chunk where the single render shows it.
MARGIN_MS = 1000


def grid_ms(fps: int) -> int:
    """The step of output frame times that are whole ms (200 at 15 fps, 40 at 25)."""
    return 1000 // math.gcd(1000, fps)


def slice_ms(fps: int) -> int:
    """The longest lookback slice whose frames all round to one output frame (< half)."""
    return (1000 - 1) // (2 * fps)


def placement_in(p: Placement, window: Span, fps: int) -> Placement | None:
    """``p``'s pieces for the chunk ``window``, on its timeline; None if it draws nothing."""
    clips = tuple(sorted(p.clips, key=lambda c: c.at))
    body = [x for c in _cut(clips, window, window.start) for x in _late(c, clips, window, fps)]
    back = _lookback(clips, window.start, body, fps) if window.start > 0 else []
    if not body and not back:
        return None
    ahead = [replace(c, at=c.at - window.start) for c in _media_after(clips, window.end)]
    return replace(p, clips=tuple(_merge([*back, *body, *ahead])))


def _cut(clips: tuple[Clip, ...], span: Span, origin: int) -> list[Clip]:
    """The parts of ``clips`` inside ``span`` (output times), at ``at - origin``."""
    out = []
    for c in clips:
        part = Span(c.at, c.end).intersect(span)
        if part is not None:
            start = c.src.start + part.start - c.at
            out.append(Clip(c.input, Span(start, start + part.length), part.start - origin))
    return out


def _late(piece: Clip, clips: tuple[Clip, ...], window: Span, fps: int) -> list[Clip]:
    """A clip the single render turns on one frame late (``enabled``: its start is on the
    grid and the doubles tip) starts 1 ms late here too; its first ms of media goes on a
    piece of its own, 1 ms further on, so its frames still land where they did."""
    frame = piece.at * fps // 1000
    on_grid = piece.at > 0 and piece.at * fps % 1000 == 0 and piece.src.length > 1
    if not on_grid or enabled(clips, frame + window.start * fps // 1000, fps):
        return [piece]
    if not enabled((piece,), frame, fps):
        return [piece]
    s, at = piece.src.start, piece.at + 1
    return [
        Clip(piece.input, Span(s, s + 1), at),
        Clip(piece.input, Span(s + 1, piece.src.end), at),
    ]


def _lookback(clips: tuple[Clip, ...], cut: int, body: list[Clip], fps: int) -> list[Clip]:
    """The frames before the cut that the tile may still show after it."""
    if enabled(clips, cut * fps // 1000, fps):
        # Drawn at the cut: all of them on frame 0, where the last one wins.
        return [*_slices(clips, cut, 0, slice_ms(fps)), *_anchor(clips, cut)]
    if not body or body[0].at == 0:
        return []
    # A gap at the cut: the tile holds its last frame until its next clip's first one.
    frame = _carry_frame(clips, body[0].at, fps)
    at = frame * 1000 // fps + 1
    # Past the frame's time (so no enable window holds a frame time) and under half a frame.
    width = (2 * frame + 1) * 500 // fps - at
    return _slices(clips, cut, at, width)


def _slices(clips: tuple[Clip, ...], until: int, at: int, width: int) -> list[Clip]:
    """``_media_before`` as slices of ``width`` ms, all placed at ``at``, in source order."""
    out: list[Clip] = []
    for part in _media_before(clips, until):
        # From the end back, so the last slice ends where the media does.
        ends = range(part.src.end, part.src.start, -width)
        out += [Clip(part.input, Span(max(e - width, part.src.start), e), at) for e in ends][::-1]
    return out


def _media_before(clips: tuple[Clip, ...], until: int) -> list[Clip]:
    """The clips' last ``MARGIN_MS`` of media before ``until`` (gaps do not count)."""
    out: list[Clip] = []
    left = MARGIN_MS
    for c in reversed(clips):
        end = min(c.end, until)
        if end > c.at and left > 0:
            out = _cut((c,), Span(max(c.at, end - left), end), 0) + out
            left -= out[0].src.length
    return out


def _media_after(clips: tuple[Clip, ...], start: int) -> list[Clip]:
    """The clips' first ``MARGIN_MS`` of media from ``start`` on (gaps do not count)."""
    out: list[Clip] = []
    left = MARGIN_MS
    for c in clips:
        begin = max(c.at, start)
        if c.end > begin and left > 0:
            out += _cut((c,), Span(begin, min(c.end, begin + left)), 0)
            left -= out[-1].src.length
    return out


def _anchor(clips: tuple[Clip, ...], cut: int) -> list[Clip]:
    """A clip that ends at the cut keeps its shift for the frame that ends its tile."""
    ending = [c for c in clips if c.end == cut]
    if not ending or any(c.at <= cut < c.end for c in clips):
        return []
    end = ending[-1].src.end
    return [Clip(ending[-1].input, Span(end, end), 0)]


def _carry_frame(clips: tuple[Clip, ...], first_at: int, fps: int) -> int:
    """The chunk frame that holds carried frames: before ``first_at``, and on the single
    render's lead modulo the grid, so a 1 ms time base rounds as it does there."""
    latest = -(-first_at * fps // 1000) - 1
    step = grid_ms(fps) * fps // 1000
    lead = min(c.at for c in clips) * fps // 1000
    aligned = latest - (latest - lead) % step
    return aligned if aligned >= 0 else latest


def _merge(clips: list[Clip]) -> list[Clip]:
    """Join pieces that continue each other (the body and its lookahead)."""
    out: list[Clip] = []
    for c in clips:
        prev = out[-1] if out else None
        if prev and prev.src.length and prev.end == c.at and prev.src.end == c.src.start:
            out[-1] = Clip(c.input, Span(prev.src.start, c.src.end), prev.at)
        else:
            out.append(c)
    return out


def enabled(clips: tuple[Clip, ...], frame: int, fps: int) -> bool:
    """``between(t, at, end)`` for some clip at output frame ``frame``, in doubles.

    ffmpeg computes ``t`` as ``frame * (1/fps)`` and parses ``at`` and ``end`` from exact
    decimals; at a clip start on the grid the two sometimes differ in the last bit, and
    then that frame is not drawn (one frame in twenty, depending on the frame number).
    """
    t = frame * (1.0 / fps)
    return any(c.at / 1000 <= t <= c.end / 1000 for c in clips)
