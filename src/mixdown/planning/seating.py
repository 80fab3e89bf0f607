"""Who sits in which mix slot, over time (DESIGN §3 "Who goes where").

Reserved slots take the streams they match, one at a time, first come. Camera streams
take free spare slots in order of first appearance (ties: StreamId), keep a slot while
present, and get their old slot back on return if it is still free. A stream with no
slot is not shown.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from mixdown.domain.recording import StreamKind, stream_kind
from mixdown.domain.timing import Span
from mixdown.planning.layout import Slot


@dataclass(frozen=True)
class Seat:
    stream_id: str
    slot: int
    span: Span


def seat(slots: tuple[Slot, ...], presence: dict[str, list[Span]]) -> list[Seat]:
    """Assign slots over time; ``presence`` holds each stream's spans with video, sorted."""
    first_seen = {sid: spans[0].start for sid, spans in presence.items() if spans}
    order = sorted(first_seen, key=lambda sid: (first_seen[sid], sid))
    bounds = sorted({t for spans in presence.values() for s in spans for t in (s.start, s.end)})
    occupant: dict[int, str] = {}
    last_slot: dict[str, int] = {}
    seats: list[Seat] = []
    for lo, hi in itertools.pairwise(bounds):
        here = {sid for sid in order if any(s.start <= lo and hi <= s.end for s in presence[sid])}
        occupant = {k: v for k, v in occupant.items() if v in here}
        seated = set(occupant.values())
        for sid in order:
            if sid in here and sid not in seated:
                choice = _choose(slots, sid, occupant, last_slot.get(sid))
                if choice is not None:
                    occupant[choice] = sid
                    last_slot[sid] = choice
        for slot, sid in occupant.items():
            seats.append(Seat(sid, slot, Span(lo, hi)))
    return _merge(seats)


def _choose(
    slots: tuple[Slot, ...], sid: str, occupant: dict[int, str], previous: int | None
) -> int | None:
    reserved = [i for i, s in enumerate(slots) if s.accepts(sid)]
    if reserved:
        candidates = reserved
    elif stream_kind(sid) is StreamKind.CAMERA:
        candidates = [i for i, s in enumerate(slots) if not s.reserved]
    else:
        return None  # whiteboard and screen share show only in slots reserved for them
    free = [i for i in candidates if i not in occupant]
    if previous in free:
        return previous
    return free[0] if free else None


def _merge(seats: list[Seat]) -> list[Seat]:
    out: list[Seat] = []
    for s in sorted(seats, key=lambda x: (x.stream_id, x.span.start)):
        last = out[-1] if out else None
        if (
            last
            and last.stream_id == s.stream_id
            and last.slot == s.slot
            and (last.span.end == s.span.start)
        ):
            out[-1] = Seat(s.stream_id, s.slot, Span(last.span.start, s.span.end))
        else:
            out.append(s)
    return out
