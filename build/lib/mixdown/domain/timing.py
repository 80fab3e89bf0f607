"""Half-open spans of integer milliseconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int

    @property
    def length(self) -> int:
        return max(0, self.end - self.start)

    @property
    def empty(self) -> bool:
        return self.end <= self.start

    def intersect(self, other: Span) -> Span | None:
        lo, hi = max(self.start, other.start), min(self.end, other.end)
        return Span(lo, hi) if hi > lo else None

    def shift(self, by: int) -> Span:
        return Span(self.start + by, self.end + by)

    def contains(self, t: int) -> bool:
        return self.start <= t < self.end


def subtract(span: Span, holes: list[Span]) -> list[Span]:
    """``span`` minus every hole, in order; holes may overlap or be unsorted."""
    out: list[Span] = []
    cursor = span.start
    for hole in sorted(holes):
        if hole.end <= cursor or hole.start >= span.end:
            continue
        if hole.start > cursor:
            out.append(Span(cursor, hole.start))
        cursor = max(cursor, hole.end)
    if cursor < span.end:
        out.append(Span(cursor, span.end))
    return out


def merge(spans: list[Span]) -> list[Span]:
    """Union of spans as sorted, disjoint spans (touching spans join)."""
    out: list[Span] = []
    for s in sorted(x for x in spans if not x.empty):
        if out and s.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, s.end))
        else:
            out.append(s)
    return out
