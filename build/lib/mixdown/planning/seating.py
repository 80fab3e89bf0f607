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
from mixdown.domain.report import SLOT_UNMATCHED, STREAM_NOT_SHOWN, Notice
from mixdown.domain.timing import Span, merge, subtract
from mixdown.planning.layout import Layout, Slot


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


def seating_notices(
    layout: Layout, presence: dict[str, list[Span]], seats: list[Seat], heard: set[str]
) -> tuple[Notice, ...]:
    """Why a slot stayed empty or a stream was not drawn: the report's warnings.

    ``presence`` holds the streams with video, ``heard`` those with audio."""
    out = [_unmatched(layout, i, presence, heard) for i in range(len(layout.slots))]
    for sid in sorted(presence, key=lambda x: (presence[x][0].start, x)):
        shown = merge([s.span for s in seats if s.stream_id == sid])
        hidden = sum(h.length for p in presence[sid] for h in subtract(p, shown))
        if hidden:
            total = sum(p.length for p in presence[sid])
            out.append(_not_shown(layout, sid, hidden, total, sid in heard))
    return tuple(n for n in out if n is not None)


def _unmatched(
    layout: Layout, index: int, presence: dict[str, list[Span]], heard: set[str]
) -> Notice | None:
    slot = layout.slots[index]
    if not slot.reserved or slot.for_kind or any(slot.accepts(sid) for sid in presence):
        return None
    name = (
        f"MixStream.Custom.InputStreamList[{index}] (InputStreamId {slot.reserved!r})"
        if layout.suffix == "custom"
        else f"the slot MixStream.TeacherId {slot.reserved!r} reserves"
    )
    audio_only = sorted(sid for sid in heard if slot.accepts(sid))
    why = (
        f"its only matching streams have no video ({', '.join(audio_only)})"
        if audio_only
        else "no stream of the recording matches it"
    )
    return Notice(SLOT_UNMATCHED, f"{name}: {why}; the slot shows the background throughout")


def _not_shown(layout: Layout, sid: str, hidden_ms: int, video_ms: int, heard: bool) -> Notice:
    if not any(slot.accepts(sid) for slot in layout.slots) and (
        stream_kind(sid) is not StreamKind.CAMERA or all(s.reserved for s in layout.slots)
    ):
        why = "no slot of the layout takes it"
    else:
        why = "no slot was free for it"
    span = (
        "never shown"
        if hidden_ms >= video_ms
        else (f"not shown for {hidden_ms / 1000:.1f} s of its {video_ms / 1000:.1f} s of video")
    )
    return Notice(
        STREAM_NOT_SHOWN,
        f"{sid}: {span} in the mix: {why}" + (" (its sound is still mixed)" if heard else ""),
        stream_id=sid,
    )
