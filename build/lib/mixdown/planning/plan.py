"""The render plan: a frozen, versioned, JSON-serialisable description of every output.

A plan says *what* to draw and play, when and where; it holds no encoder settings and
does no I/O. Times are integer ms. ``Clip.src`` is on the input file's own timeline
(0 = its earliest sample, as ffmpeg reads it); ``Clip.at`` is on the output's timeline.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from mixdown.domain.geometry import Rect
from mixdown.domain.report import Notice
from mixdown.domain.result import OmittedDuration
from mixdown.domain.timing import Span

PLAN_VERSION = 1
T = TypeVar("T")


@dataclass(frozen=True)
class Input:
    url: str
    has_video: bool
    has_audio: bool
    #: The container has a keyframe index, so an input seek lands on a keyframe.
    seekable: bool = False
    #: Audio channels (1: a mono microphone, copied to both output channels at full level).
    channels: int = 0
    #: Its picture size changes inside the file: each frame is fitted on its own.
    size_changes: bool = False


@dataclass(frozen=True)
class Clip:
    input: int
    src: Span
    at: int

    @property
    def end(self) -> int:
        return self.at + self.src.length


@dataclass(frozen=True)
class Placement:
    """Video clips of one input drawn into ``rect``; ``fill_mode`` 0 fits, 1 covers."""

    input: int
    clips: tuple[Clip, ...]
    rect: Rect
    z: int
    fill_mode: int = 0
    background: str = "#000000"


@dataclass(frozen=True)
class VideoPlan:
    width: int
    height: int
    background: str
    #: URL of an image fitted on ``background`` behind everything (Concat.Image); like an
    #: input's URL, the executor maps it to a local file.
    image: str
    placements: tuple[Placement, ...]


@dataclass(frozen=True)
class AudioPlan:
    """Each lane is one stream's clips, never overlapping; lanes are summed."""

    lanes: tuple[tuple[Clip, ...], ...]


@dataclass(frozen=True)
class CopyPlan:
    """The output is one input remuxed as it is: no decode, no encode."""

    input: int
    video: bool
    audio: bool


@dataclass(frozen=True)
class OutputPlan:
    name: str
    format: str
    video_type: int
    user_id: str
    play_time: int
    duration: int
    video: VideoPlan | None
    audio: AudioPlan | None
    copy: CopyPlan | None = None
    #: The video may be spliced from its sources (GOPs copied, cuts and gaps encoded);
    #: the renderer encodes it the ordinary way when the sources do not allow that.
    splice: bool = False
    #: What planning found worth telling (a slot no stream matches, a stream never drawn):
    #: facts for the generation report, no effect on rendering.
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Render:
    """Outputs that share one timeline and so render in one ffmpeg run."""

    outputs: tuple[OutputPlan, ...]
    duration: int


@dataclass(frozen=True)
class Plan:
    total_time: int
    omitted: tuple[OmittedDuration, ...]
    inputs: tuple[Input, ...]
    renders: tuple[Render, ...]
    version: int = PLAN_VERSION

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    @staticmethod
    def from_json(data: dict[str, Any]) -> Plan:
        return rebuild(Plan, data, PLAN_VERSION, "plan")


def rebuild(tp: type[T], data: dict[str, Any], version: int, what: str) -> T:
    """A versioned frozen dataclass from its ``asdict`` form; another version is refused."""
    if data.get("version") != version:
        raise ValueError(f"{what} version {data.get('version')} is not {version}")
    built = _build(tp, data)
    assert isinstance(built, tp)
    return built


def _build(tp: Any, value: Any) -> Any:
    """Rebuild frozen dataclasses from ``asdict`` output, guided by the type hints."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        # A field added with a default may be absent from plans stored before it existed.
        fields = [f for f in dataclasses.fields(tp) if f.name in value]
        return tp(**{f.name: _build(hints[f.name], value[f.name]) for f in fields})
    if origin is tuple:
        args = typing.get_args(tp)
        inner = args[0]
        return tuple(_build(inner, v) for v in value)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        real = [a for a in typing.get_args(tp) if a is not type(None)]
        return _build(real[0], value)
    return value
