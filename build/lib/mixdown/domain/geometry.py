"""Rectangles, colours and even-size rounding for the canvas."""

from __future__ import annotations

import re
from dataclasses import dataclass

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    def inside(self, width: int, height: int) -> bool:
        return (
            self.x >= 0
            and self.y >= 0
            and self.x + self.width <= width
            and (self.y + self.height <= height)
        )


def even(n: int) -> int:
    """Round an odd size up to even, at least 2 (H.264 4:2:0 needs even sizes)."""
    return max(2, (n + 1) // 2 * 2)


def is_color(value: str) -> bool:
    return bool(_COLOR.match(value))


def ffmpeg_color(value: str) -> str:
    """``#RRGGBB`` as ffmpeg's colour syntax."""
    return "0x" + value[1:].upper()
