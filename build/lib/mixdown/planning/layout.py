"""Mix canvases: the built-in templates and Custom layouts (DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass

from mixdown.domain.geometry import Rect, even
from mixdown.domain.parameters import CustomLayout, MixStream
from mixdown.domain.recording import SCREEN_PREFIX, WHITEBOARD_PREFIX, StreamKind, stream_kind

TEMPLATE_BACKGROUND = "#34363B"
_KIND_SLOTS = {WHITEBOARD_PREFIX: StreamKind.WHITEBOARD, SCREEN_PREFIX: StreamKind.SCREEN}
SMALL_W, SMALL_H = 320, 240


@dataclass(frozen=True)
class Slot:
    rect: Rect
    z: int
    #: Reserved for streams whose id starts with this (or equals it when ``exact``).
    reserved: str = ""
    exact: bool = False
    fill_mode: int = 0
    background: str = "#000000"

    @property
    def for_kind(self) -> bool:
        """Reserved for the whiteboard or the screen share: empty when the class has none."""
        return self.reserved in _KIND_SLOTS

    def accepts(self, stream_id: str) -> bool:
        if not self.reserved:
            return False
        if self.reserved in _KIND_SLOTS:
            # "tic_substream" names the screen share, not every id with that prefix.
            return stream_kind(stream_id) is _KIND_SLOTS[self.reserved]
        return stream_id == self.reserved if self.exact else stream_id.startswith(self.reserved)


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    background: str
    slots: tuple[Slot, ...]
    #: Suffix of the mix's UserId: tic_mixstream_<RoomId>_<suffix>.
    suffix: str


def layout_for(mix: MixStream) -> Layout:
    if mix.custom is not None:
        return _custom(mix.custom)
    if mix.model_id == 2:
        small = [Rect(1296, 8 + i * 248, SMALL_W, SMALL_H) for i in range(4)]
        return _template(1624, 1000, Rect(8, 8, 1280, 960), small, mix.teacher_id, "2")
    small = [Rect(8 + i * 328, 8, SMALL_W, SMALL_H) for i in range(4)]
    return _template(1320, 1224, Rect(20, 256, 1280, 960), small, mix.teacher_id, "1")


def _template(
    width: int, height: int, board: Rect, small: list[Rect], teacher: str, suffix: str
) -> Layout:
    slots = [Slot(board, 1, WHITEBOARD_PREFIX), Slot(board, 2, SCREEN_PREFIX)]
    for i, rect in enumerate(small):
        if i == 0 and teacher:
            slots.append(Slot(rect, 3, teacher, exact=True))
        else:
            slots.append(Slot(rect, 3))
    return Layout(width, height, TEMPLATE_BACKGROUND, tuple(slots), suffix)


def _custom(custom: CustomLayout) -> Layout:
    slots = tuple(
        Slot(
            _even_rect(s.layout.x, s.layout.y, s.layout.width, s.layout.height),
            s.layout.z_order,
            s.input_stream_id,
            fill_mode=s.fill_mode,
            background=s.background_color,
        )
        for s in custom.input_streams
    )
    canvas = custom.canvas
    return Layout(even(canvas.width), even(canvas.height), canvas.background_color, slots, "custom")


def _even_rect(x: int, y: int, width: int, height: int) -> Rect:
    """4:2:0 overlays land on even positions: grow an odd-placed slot one pixel outward."""
    return Rect(x - x % 2, y - y % 2, even(width + x % 2), even(height + y % 2))
