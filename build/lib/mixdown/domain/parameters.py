"""Generation parameters as TIW defines them (reference §3.1-§3.9), already validated."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WHITEBOARD_WIDTH = 1280
DEFAULT_WHITEBOARD_HEIGHT = 960


@dataclass(frozen=True)
class Whiteboard:
    width: int = DEFAULT_WHITEBOARD_WIDTH
    height: int = DEFAULT_WHITEBOARD_HEIGHT
    init_param: str = ""


@dataclass(frozen=True)
class Concat:
    enabled: bool = False
    #: Filler image URL or path shown across gaps; empty: black.
    image: str = ""


@dataclass(frozen=True)
class LayoutParams:
    width: int
    height: int
    x: int = 0
    y: int = 0
    z_order: int = 0


@dataclass(frozen=True)
class StreamLayout:
    layout: LayoutParams
    input_stream_id: str = ""
    background_color: str = "#000000"
    fill_mode: int = 0


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int
    background_color: str = "#000000"


@dataclass(frozen=True)
class CustomLayout:
    canvas: Canvas
    input_streams: tuple[StreamLayout, ...]


@dataclass(frozen=True)
class MixStream:
    enabled: bool = False
    disable_audio: bool = False
    model_id: int | None = None
    teacher_id: str = ""
    custom: CustomLayout | None = None


@dataclass(frozen=True)
class StreamControl:
    stream_id: str
    disable_record: bool = False
    disable_audio: bool = False
    pull_small_video: bool = False


@dataclass(frozen=True)
class RecordControl:
    enabled: bool = False
    disable_record: bool = False
    disable_audio: bool = False
    pull_small_video: bool = False
    stream_controls: tuple[StreamControl, ...] = ()


@dataclass(frozen=True)
class GenerationParams:
    """The four parameter objects; None means "not given"."""

    whiteboard: Whiteboard | None = None
    concat: Concat | None = None
    mix_stream: MixStream | None = None
    record_control: RecordControl | None = None

    def over(self, defaults: GenerationParams) -> GenerationParams:
        """Each object given here replaces the default's object as a whole (DESIGN §1)."""
        return GenerationParams(
            whiteboard=self.whiteboard if self.whiteboard is not None else defaults.whiteboard,
            concat=self.concat if self.concat is not None else defaults.concat,
            mix_stream=self.mix_stream if self.mix_stream is not None else defaults.mix_stream,
            record_control=(
                self.record_control if self.record_control is not None else defaults.record_control
            ),
        )
