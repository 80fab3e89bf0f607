"""The playback timeline: t = 0 at the recording start, paused intervals cut out (DESIGN §1)."""

from __future__ import annotations

from dataclasses import dataclass

from mixdown.domain.recording import Pause
from mixdown.domain.result import OmittedDuration
from mixdown.domain.timing import Span, subtract


@dataclass(frozen=True)
class Mapped:
    """A wall-clock piece that survives onto the playback timeline at ``at``."""

    wall: Span
    at: int


@dataclass(frozen=True)
class Timeline:
    start_ms: int
    stop_ms: int
    pauses: tuple[Pause, ...] = ()

    def _holes(self) -> list[Span]:
        window = Span(self.start_ms, self.stop_ms)
        holes = [Span(p.pause_ms, p.resume_ms).intersect(window) for p in self.pauses]
        return [h for h in holes if h is not None]

    @property
    def total_ms(self) -> int:
        return self.stop_ms - self.start_ms - sum(h.length for h in self._holes())

    def position(self, wall_ms: int) -> int:
        """Playback position of a wall-clock instant (a paused instant maps to the resume point)."""
        wall_ms = min(max(wall_ms, self.start_ms), self.stop_ms)
        cut = sum(min(h.end, wall_ms) - h.start for h in self._holes() if h.start < wall_ms)
        return wall_ms - self.start_ms - cut

    def map(self, wall: Span) -> list[Mapped]:
        """The parts of ``wall`` that play, each with its playback start."""
        window = wall.intersect(Span(self.start_ms, self.stop_ms))
        if window is None:
            return []
        return [
            Mapped(piece, self.position(piece.start)) for piece in subtract(window, self._holes())
        ]

    def omitted(self) -> tuple[OmittedDuration, ...]:
        return tuple(OmittedDuration(self.position(h.start), h.start, h.end) for h in self._holes())
