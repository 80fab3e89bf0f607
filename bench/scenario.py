"""The benchmark class: who is there when, and where the pause falls. Pure, no I/O.

One recording of ``minutes`` wall-clock minutes (L), every time on the 200 ms grid (3 frames
at 15 fps):

* ``tic_record_user``: the whiteboard, 1280x960, one segment over the whole recording;
* ``teacher``: camera, one FLV segment over the whole recording;
* ``alice``: camera, joins late, at 20 % of L (one MP4 segment to the end);
* ``bob``: camera, leaves at 40 % and rejoins at 55 % (two MP4 segments);
* a pause from 70 % to 75 % of L: the files hold media for it, every output must cut it.

Template 1 seats cameras in spare slots by first appearance, ties in StreamId order
(DESIGN §3): ``bob`` and ``teacher`` are there from 0 ("bob" sorts first), ``alice`` comes
third; ``bob`` gets his slot back when he returns. Both hand-written commands use this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ClassKind = Literal["canonical", "dynamic"]
KINDS: tuple[ClassKind, ...] = ("canonical", "dynamic")

FPS = 15
GRID_MS = 200
START_EPOCH_MS = 1_700_000_000_000
ROOM_ID = 4242
WHITEBOARD_ID = "tic_record_user"

#: Template 1 (DESIGN §3).
CANVAS = (1320, 1224)
BACKGROUND = "0x34363B"
BOARD_RECT = (20, 256, 1280, 960)
SMALL_SLOTS = tuple((8 + i * 328, 8) for i in range(4))
SMALL_SIZE = (320, 240)
CAMERA_SIZE = (640, 480)
BOARD_SIZE = (1280, 960)
#: Page change (board cleared) at most this often; short classes get three pages.
PAGE_MS = 180_000


def on_grid(ms: float) -> int:
    return round(ms / GRID_MS) * GRID_MS


@dataclass(frozen=True)
class Segment:
    stream_id: str
    file: str
    #: Wall-clock span, ms after the recording start.
    start_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class Piece:
    """A part of a segment that plays: ``length_ms`` from ``src_ms`` in the file, at ``at_ms``."""

    file: str
    src_ms: int
    length_ms: int
    at_ms: int

    @property
    def end_ms(self) -> int:
        return self.at_ms + self.length_ms


@dataclass(frozen=True)
class Run:
    """Pieces of one stream that follow each other without a gap on the playback timeline."""

    stream_id: str
    pieces: tuple[Piece, ...]

    @property
    def at_ms(self) -> int:
        return self.pieces[0].at_ms

    @property
    def end_ms(self) -> int:
        return self.pieces[-1].end_ms


@dataclass(frozen=True)
class Scenario:
    kind: ClassKind
    minutes: float
    length_ms: int
    pause: tuple[int, int]
    page_ms: int
    segments: tuple[Segment, ...]

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.minutes:g}m"

    @property
    def total_ms(self) -> int:
        """Playback length: the recording less the pause (DESIGN §1 TotalTime)."""
        return self.length_ms - (self.pause[1] - self.pause[0])

    @property
    def cameras(self) -> tuple[str, ...]:
        """Camera stream ids in slot order (first appearance, then StreamId)."""
        first: dict[str, int] = {}
        for seg in self.segments:
            if seg.stream_id != WHITEBOARD_ID:
                first[seg.stream_id] = min(first.get(seg.stream_id, seg.start_ms), seg.start_ms)
        return tuple(sorted(first, key=lambda s: (first[s], s)))

    def stream_ids(self) -> tuple[str, ...]:
        return (WHITEBOARD_ID, *self.cameras)

    def segments_of(self, stream_id: str) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.stream_id == stream_id)

    def position(self, wall_ms: int) -> int:
        lo, hi = self.pause
        if wall_ms <= lo:
            return wall_ms
        return lo if wall_ms <= hi else wall_ms - (hi - lo)

    def pieces(self, seg: Segment) -> tuple[Piece, ...]:
        """The parts of ``seg`` outside the pause, placed on the playback timeline."""
        lo, hi = self.pause
        spans = [(seg.start_ms, min(seg.end_ms, lo)), (max(seg.start_ms, hi), seg.end_ms)]
        return tuple(
            Piece(seg.file, a - seg.start_ms, b - a, self.position(a)) for a, b in spans if b > a
        )

    def playable_ms(self, seg: Segment) -> int:
        return sum(p.length_ms for p in self.pieces(seg))

    def runs(self, stream_id: str) -> tuple[Run, ...]:
        runs: list[list[Piece]] = []
        for seg in self.segments_of(stream_id):
            for piece in self.pieces(seg):
                if runs and runs[-1][-1].end_ms == piece.at_ms:
                    runs[-1].append(piece)
                else:
                    runs.append([piece])
        return tuple(Run(stream_id, tuple(r)) for r in runs)

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "minutes": self.minutes,
            "length_ms": self.length_ms,
            "total_ms": self.total_ms,
            "pause_ms": list(self.pause),
            "page_ms": self.page_ms,
            "segments": [
                {"stream": s.stream_id, "file": s.file, "start_ms": s.start_ms, "end_ms": s.end_ms}
                for s in self.segments
            ],
        }


def make_scenario(kind: ClassKind, minutes: float) -> Scenario:
    length = on_grid(minutes * 60_000)
    if length < 10 * GRID_MS * 5:
        raise ValueError("a class needs at least 10 s")

    def at(fraction: float) -> int:
        return on_grid(length * fraction)

    segments = (
        Segment(WHITEBOARD_ID, "whiteboard.mp4", 0, length),
        Segment("teacher", "teacher.flv", 0, length),
        Segment("alice", "alice.mp4", at(0.20), length),
        Segment("bob", "bob-1.mp4", 0, at(0.40)),
        Segment("bob", "bob-2.mp4", at(0.55), length),
    )
    return Scenario(
        kind=kind,
        minutes=float(minutes),
        length_ms=length,
        pause=(at(0.70), at(0.75)),
        page_ms=min(PAGE_MS, on_grid(length / 3)),
        segments=segments,
    )
