"""Per-track ownership of a stream's overlapping segments, and the pieces of media it makes.

DESIGN §1: at each moment a track (video, audio) comes from the latest-starting segment that
carries that track *then*, judged on each track's own extent. A reconnect carrying both
tracks replaces both; an audio-only file leaves the picture alone; a video-only file leaves
the sound alone. So one stream's picture and sound may come from different files at once.

DESIGN §2 (without Concat, one video per continuous piece of media) is read per picture: a
*part* is one segment's continuous picture with the sound heard meanwhile, whichever file
it comes from; sound that overlaps no picture is a part of its own. A sound clip that
overlaps several pictures is cut where each later picture starts, its lead going to the
first picture and its tail to the last, so a part may begin or end with sound alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from mixdown.domain.timing import Span, merge
from mixdown.planning.plan import Clip

#: A video clip and an audio clip (either may be absent) that go together.
Pair = tuple[Clip | None, Clip | None]


def owned_spans(extents: Sequence[tuple[int, Span | None]]) -> list[list[Span]]:
    """The wall-clock spans of one track that each segment owns, in the order given.

    ``extents``: per segment, its StartTime and the track's wall-clock span (None: the
    segment does not carry the track). The latest StartTime wins; on a tie, the later
    segment in the list.
    """
    live = [(i, start, s) for i, (start, s) in enumerate(extents) if s is not None and not s.empty]
    bounds = sorted({t for _, _, s in live for t in (s.start, s.end)})
    owned: list[list[Span]] = [[] for _ in extents]
    for lo, hi in itertools.pairwise(bounds):
        covering = [(start, i) for i, start, s in live if s.start <= lo and hi <= s.end]
        if covering:
            owned[max(covering)[1]].append(Span(lo, hi))
    return [merge(spans) for spans in owned]


def pairs(video: Sequence[Clip], audio: Sequence[Clip]) -> list[Pair]:
    """Clips grouped as one file's picture and sound, ordered by start.

    A video clip and an audio clip of one input pair up when each overlaps no other clip of
    the other track of that input (a file's picture with its own sound); any other clip
    stands alone. Clips of different inputs never pair.
    """
    out: list[Pair] = []
    paired: set[int] = set()
    for v in video:
        mates = [i for i, a in enumerate(audio) if a.input == v.input and _overlap(v, a)]
        if len(mates) == 1:
            mate = audio[mates[0]]
            rivals = [w for w in video if w.input == v.input and _overlap(w, mate)]
            if len(rivals) == 1:
                paired.add(mates[0])
                out.append((v, mate))
                continue
        out.append((v, None))
    out += [(None, a) for i, a in enumerate(audio) if i not in paired]
    return sorted(out, key=_start)


def parts(video: Sequence[Clip], audio: Sequence[Clip]) -> list[tuple[list[Clip], list[Clip]]]:
    """Continuous pieces of media (module docstring): per part, its video clip (none for
    sound alone) and its audio clips, ordered by start. Clips never overlap within a track.
    """
    pictures = sorted(video, key=lambda c: c.at)
    shared: list[list[Clip]] = [[] for _ in pictures]
    alone: list[tuple[list[Clip], list[Clip]]] = []
    for a in audio:
        over = [i for i, v in enumerate(pictures) if _overlap(v, a)]
        if not over:
            alone.append(([], [a]))
            continue
        for i, cut in zip(over, _cut(a, [pictures[i].at for i in over[1:]]), strict=True):
            shared[i].append(cut)
    found = [([v], sorted(s, key=lambda c: c.at)) for v, s in zip(pictures, shared, strict=True)]
    return sorted(found + alone, key=lambda p: min(c.at for c in (*p[0], *p[1])))


def _overlap(a: Clip, b: Clip) -> bool:
    return a.at < b.end and b.at < a.end


def _start(pair: Pair) -> int:
    return min(c.at for c in pair if c is not None)


def _cut(clip: Clip, points: list[int]) -> list[Clip]:
    """``clip`` cut at playback ``points`` (ascending, strictly inside it)."""
    edges = [clip.at, *points, clip.end]
    return [
        Clip(clip.input, Span(clip.src.start + lo - clip.at, clip.src.start + hi - clip.at), lo)
        for lo, hi in itertools.pairwise(edges)
    ]
