"""TIW parameter objects from JSON, with the create-time geometry rules (DESIGN §3)."""

from __future__ import annotations

from typing import Any

from mixdown.domain.geometry import Rect, is_color
from mixdown.domain.parameters import (
    Canvas,
    Concat,
    CustomLayout,
    GenerationParams,
    LayoutParams,
    MixStream,
    RecordControl,
    StreamControl,
    StreamLayout,
    Whiteboard,
)
from mixdown.errors import RecordParameterError
from mixdown.planning.reader import Reader

SIZE_MIN, SIZE_MAX = 2, 3000
PARAM_KEYS = ("Whiteboard", "Concat", "MixStream", "RecordControl")
#: CreateVideoGenerationTask fields a params file may carry besides the four objects.
_TASK_KEYS = ("OnlineRecordTaskId", "SdkAppId", "ExtraData")


def parse_params(data: Any, path: str = "") -> GenerationParams:
    """Read the four objects from a dict that may hold other keys (the caller checks those)."""
    if not isinstance(data, dict):
        raise RecordParameterError(f"{path or 'parameters'}: expected an object")
    whole = Reader({k: data[k] for k in PARAM_KEYS if k in data}, path, RecordParameterError)
    wb, concat, mix, control = (whole.child(k) for k in PARAM_KEYS)
    return GenerationParams(
        whiteboard=_whiteboard(wb) if wb else None,
        concat=_concat(concat) if concat else None,
        mix_stream=_mix_stream(mix) if mix else None,
        record_control=_record_control(control) if control else None,
    )


def parse_task_params(data: Any) -> GenerationParams:
    """A CreateVideoGenerationTask-shaped object (a params file): the four objects; the
    task's other fields are allowed and ignored, any other key is refused."""
    params = parse_params(data)
    whole = Reader(data, "")
    whole.ignore(*PARAM_KEYS, *_TASK_KEYS)
    whole.done()
    return params


def _whiteboard(r: Reader) -> Whiteboard:
    out = Whiteboard(
        width=r.integer("Width", 1280, lo=SIZE_MIN, hi=SIZE_MAX),
        height=r.integer("Height", 960, lo=SIZE_MIN, hi=SIZE_MAX),
        init_param=r.string("InitParam", ""),
    )
    r.done()
    return out


def _concat(r: Reader) -> Concat:
    out = Concat(enabled=r.boolean("Enabled"), image=r.string("Image", ""))
    r.done()
    return out


def _mix_stream(r: Reader) -> MixStream:
    enabled = r.boolean("Enabled")
    disable_audio = r.boolean("DisableAudio", False)
    model_id = r.optional_integer("ModelId")
    teacher_id = r.string("TeacherId", "")
    custom_reader = r.child("Custom")
    r.done()
    custom = _custom(custom_reader) if custom_reader else None
    if enabled and custom is None:
        if model_id is None:
            raise RecordParameterError(f"{r.path}.ModelId: required when Custom is absent")
        if model_id not in (1, 2):
            raise RecordParameterError(f"{r.path}.ModelId: {model_id} is not 1 or 2")
    return MixStream(
        enabled=enabled,
        disable_audio=disable_audio,
        model_id=model_id,
        teacher_id=teacher_id,
        custom=custom,
    )


def _color(r: Reader, key: str) -> str:
    value = r.string(key, "#000000") or "#000000"
    if not is_color(value):
        raise RecordParameterError(f"{r.path}.{key}: {value!r} is not a #RRGGBB colour")
    return value.upper()


def _layout_params(r: Reader) -> LayoutParams:
    out = LayoutParams(
        width=r.integer("Width", lo=SIZE_MIN, hi=SIZE_MAX),
        height=r.integer("Height", lo=SIZE_MIN, hi=SIZE_MAX),
        x=r.integer("X", 0, lo=0, hi=SIZE_MAX),
        y=r.integer("Y", 0, lo=0, hi=SIZE_MAX),
        z_order=r.integer("ZOrder", 0),
    )
    r.done()
    return out


def _custom(r: Reader) -> CustomLayout:
    canvas_r = r.child("Canvas", required=True)
    assert canvas_r is not None
    size_r = canvas_r.child("LayoutParams", required=True)
    assert size_r is not None
    size = _layout_params(size_r)
    canvas = Canvas(size.width, size.height, _color(canvas_r, "BackgroundColor"))
    canvas_r.done()
    raw = r.items("InputStreamList", required=True)
    if not raw:
        raise RecordParameterError(f"{r.path}.InputStreamList: needs at least one slot")
    slots: list[StreamLayout] = []
    for i, item in enumerate(raw):
        sr = Reader(item, r.item_path("InputStreamList", i), RecordParameterError)
        lp_r = sr.child("LayoutParams", required=True)
        assert lp_r is not None
        lp = _layout_params(lp_r)
        fill = sr.integer("FillMode", 0)
        if fill not in (0, 1):
            raise RecordParameterError(f"{sr.path}.FillMode: {fill} is not 0 or 1")
        slot = StreamLayout(
            layout=lp,
            input_stream_id=sr.string("InputStreamId", ""),
            background_color=_color(sr, "BackgroundColor"),
            fill_mode=fill,
        )
        sr.done()
        if not Rect(lp.x, lp.y, lp.width, lp.height).inside(canvas.width, canvas.height):
            raise RecordParameterError(
                f"{sr.path}.LayoutParams: slot {lp.width}x{lp.height} at ({lp.x},{lp.y}) "
                f"lies outside the {canvas.width}x{canvas.height} canvas"
            )
        slots.append(slot)
    r.done()
    return CustomLayout(canvas=canvas, input_streams=tuple(slots))


def _record_control(r: Reader) -> RecordControl:
    enabled = r.boolean("Enabled")
    disable_record = r.boolean("DisableRecord", False)
    disable_audio = r.boolean("DisableAudio", False)
    pull_small = r.boolean("PullSmallVideo", False)
    controls: list[StreamControl] = []
    for i, item in enumerate(r.items("StreamControls")):
        cr = Reader(item, r.item_path("StreamControls", i), RecordParameterError)
        sid = cr.string("StreamId")
        if not sid:
            raise RecordParameterError(f"{cr.path}.StreamId: must not be empty")
        controls.append(
            StreamControl(
                stream_id=sid,
                disable_record=cr.boolean("DisableRecord", False),
                disable_audio=cr.boolean("DisableAudio", False),
                pull_small_video=cr.boolean("PullSmallVideo", False),
            )
        )
        cr.done()
    r.done()
    return RecordControl(
        enabled=enabled,
        disable_record=disable_record,
        disable_audio=disable_audio,
        pull_small_video=pull_small,
        stream_controls=tuple(controls),
    )


def params_to_tiw(params: GenerationParams) -> dict[str, Any]:
    """TIW-shaped JSON of the objects that are set (for storage and Describe)."""
    out: dict[str, Any] = {}
    if params.whiteboard:
        wb = params.whiteboard
        out["Whiteboard"] = {"Width": wb.width, "Height": wb.height, "InitParam": wb.init_param}
    if params.concat:
        out["Concat"] = {"Enabled": params.concat.enabled, "Image": params.concat.image}
    if params.mix_stream:
        out["MixStream"] = _mix_to_tiw(params.mix_stream)
    if params.record_control:
        rc = params.record_control
        out["RecordControl"] = {
            "Enabled": rc.enabled,
            "DisableRecord": rc.disable_record,
            "DisableAudio": rc.disable_audio,
            "PullSmallVideo": rc.pull_small_video,
            "StreamControls": [
                {
                    "StreamId": c.stream_id,
                    "DisableRecord": c.disable_record,
                    "DisableAudio": c.disable_audio,
                    "PullSmallVideo": c.pull_small_video,
                }
                for c in rc.stream_controls
            ],
        }
    return out


def _lp_to_tiw(lp: LayoutParams) -> dict[str, int]:
    return {"Width": lp.width, "Height": lp.height, "X": lp.x, "Y": lp.y, "ZOrder": lp.z_order}


def _mix_to_tiw(mix: MixStream) -> dict[str, Any]:
    out: dict[str, Any] = {"Enabled": mix.enabled, "DisableAudio": mix.disable_audio}
    if mix.model_id is not None:
        out["ModelId"] = mix.model_id
    if mix.teacher_id:
        out["TeacherId"] = mix.teacher_id
    if mix.custom:
        c = mix.custom
        out["Custom"] = {
            "Canvas": {
                "LayoutParams": {"Width": c.canvas.width, "Height": c.canvas.height},
                "BackgroundColor": c.canvas.background_color,
            },
            "InputStreamList": [
                {
                    "LayoutParams": _lp_to_tiw(s.layout),
                    "InputStreamId": s.input_stream_id,
                    "BackgroundColor": s.background_color,
                    "FillMode": s.fill_mode,
                }
                for s in c.input_streams
            ],
        }
    return out
