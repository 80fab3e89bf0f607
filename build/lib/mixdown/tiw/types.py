"""Each TIW type declared once (reference §3), with the rules this server adds (DESIGN §3,
§4.1): the API checks requests against these, planning reads them into domain values, and
``mixdown.tiw.documents`` writes domain values back with them."""

from __future__ import annotations

from typing import Any

from mixdown.domain.geometry import Rect, is_color
from mixdown.domain.parameters import (
    DEFAULT_WHITEBOARD_HEIGHT,
    DEFAULT_WHITEBOARD_WIDTH,
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
from mixdown.domain.recording import Pause, Recording, Segment, Stream
from mixdown.domain.result import GenerationResult, OmittedDuration, VideoInfo
from mixdown.errors import InvalidParameter, ManifestError, RecordParameterError
from mixdown.tiw.schema import (
    NO_DEFAULT,
    Field,
    Fields,
    Refused,
    array,
    boolean,
    integer,
    name,
    obj,
    string,
)

#: Smallest and largest side of a whiteboard, canvas or slot, in pixels.
SIZE_MIN, SIZE_MAX = 2, 3000
#: Latest accepted epoch ms: far beyond any real clock, keeps arithmetic exact in JSON.
EPOCH_MAX = 2**53


# --- rules ------------------------------------------------------------------------------


def _not_empty(value: str, path: str) -> str:
    if not value:
        raise Refused(f"{path}: must not be empty")
    return value


def _color(value: str, path: str) -> str:
    value = value or "#000000"
    if not is_color(value):
        raise Refused(f"{path}: {value!r} is not a #RRGGBB colour")
    return value.upper()


def _fill_mode(value: int, path: str) -> int:
    if value not in (0, 1):
        raise Refused(f"{path}: {value} is not 0 or 1")
    return value


def _template(mix: MixStream, path: str) -> MixStream:
    """Without a custom layout, a mixed video needs one of the two built-in templates."""
    if mix.enabled and mix.custom is None:
        if mix.model_id is None:
            raise Refused(f"{name(path, 'ModelId')}: required when Custom is absent")
        if mix.model_id not in (1, 2):
            raise Refused(f"{name(path, 'ModelId')}: {mix.model_id} is not 1 or 2")
    return mix


def _slots_inside(custom: CustomLayout, path: str) -> CustomLayout:
    slots = name(path, "InputStreamList")
    if not custom.input_streams:
        raise Refused(f"{slots}: needs at least one slot")
    canvas = custom.canvas
    for i, slot in enumerate(custom.input_streams):
        lp = slot.layout
        if not Rect(lp.x, lp.y, lp.width, lp.height).inside(canvas.width, canvas.height):
            raise Refused(
                f"{name(name(slots, i), 'LayoutParams')}: slot {lp.width}x{lp.height} at "
                f"({lp.x},{lp.y}) lies outside the {canvas.width}x{canvas.height} canvas"
            )
    return custom


def _pause(pause: Pause, path: str) -> Pause:
    if pause.resume_ms <= pause.pause_ms:
        raise Refused(f"{name(path, 'ResumeTime')}: must be after PauseTime")
    return pause


def _recording_rules(recording: Recording, path: str) -> Recording:
    start, stop = recording.start_ms, recording.stop_ms
    if stop is not None and stop <= start:
        raise Refused(f"{name(path, 'RecordStopTimeMs')}: must be after RecordStartTimeMs")
    previous: Pause | None = None
    for i, pause in enumerate(recording.pauses):
        where = name(name(path, "Pauses"), i)
        if pause.pause_ms < start or (stop is not None and pause.resume_ms > stop):
            raise Refused(f"{where}: pause lies outside the recording")
        if previous is not None and pause.pause_ms < previous.resume_ms:
            raise Refused(f"{where}: pauses must be in order and must not overlap")
        previous = pause
    seen: set[str] = set()
    for i, stream in enumerate(recording.streams):
        if stream.stream_id in seen:
            where = name(name(name(path, "Streams"), i), "StreamId")
            raise Refused(f"{where}: {stream.stream_id!r} appears twice")
        seen.add(stream.stream_id)
    return recording


# --- generation parameters (reference §3.1-§3.9) ------------------------------------------


def _size(attr: str, default: Any = NO_DEFAULT) -> Field:
    return integer(attr, default=default, lo=SIZE_MIN, hi=SIZE_MAX)


def _layout_fields(keep_position: bool) -> Fields:
    def position(attr: str) -> Field:
        return integer(attr if keep_position else None, default=0, lo=0, hi=SIZE_MAX)

    return {
        "Width": _size("width"),
        "Height": _size("height"),
        "X": position("x"),
        "Y": position("y"),
        "ZOrder": integer("z_order" if keep_position else None, default=0),
    }


LAYOUT_PARAMS = obj(_layout_fields(True), "layout", build=LayoutParams)

WHITEBOARD = obj(
    {
        "Width": _size("width", DEFAULT_WHITEBOARD_WIDTH),
        "Height": _size("height", DEFAULT_WHITEBOARD_HEIGHT),
        "InitParam": string("init_param", default=""),
    },
    "whiteboard",
    build=Whiteboard,
    default=None,
    error=RecordParameterError,
)

CONCAT = obj(
    {"Enabled": boolean("enabled"), "Image": string("image", default="")},
    "concat",
    build=Concat,
    default=None,
    error=RecordParameterError,
)

STREAM_LAYOUT = obj(
    {
        "LayoutParams": LAYOUT_PARAMS,
        "InputStreamId": string("input_stream_id", default=""),
        "BackgroundColor": string("background_color", default="#000000", rule=_color),
        "FillMode": integer("fill_mode", default=0, rule=_fill_mode),
    },
    build=StreamLayout,
)

CUSTOM_LAYOUT = obj(
    {
        "Canvas": obj(
            {
                # The canvas keeps only a size of its LayoutParams.
                "LayoutParams": obj(_layout_fields(False), spread=True),
                "BackgroundColor": string("background_color", default="#000000", rule=_color),
            },
            "canvas",
            build=Canvas,
        ),
        "InputStreamList": array(STREAM_LAYOUT, "input_streams"),
    },
    "custom",
    build=CustomLayout,
    default=None,
    rule=_slots_inside,
)

MIX_STREAM = obj(
    {
        "Enabled": boolean("enabled"),
        "DisableAudio": boolean("disable_audio", default=False),
        "ModelId": integer("model_id", default=None),
        "TeacherId": string("teacher_id", default=""),
        "Custom": CUSTOM_LAYOUT,
    },
    "mix_stream",
    build=MixStream,
    default=None,
    rule=_template,
    error=RecordParameterError,
)

STREAM_CONTROL = obj(
    {
        "StreamId": string("stream_id", rule=_not_empty),
        "DisableRecord": boolean("disable_record", default=False),
        "DisableAudio": boolean("disable_audio", default=False),
        "PullSmallVideo": boolean("pull_small_video", default=False),
    },
    build=StreamControl,
)

RECORD_CONTROL = obj(
    {
        "Enabled": boolean("enabled"),
        "DisableRecord": boolean("disable_record", default=False),
        "DisableAudio": boolean("disable_audio", default=False),
        "PullSmallVideo": boolean("pull_small_video", default=False),
        "StreamControls": array(STREAM_CONTROL, "stream_controls", default=()),
    },
    "record_control",
    build=RecordControl,
    default=None,
    error=RecordParameterError,
)

#: Whiteboard, Concat, MixStream, RecordControl: what a generation may override.
PARAMETER_FIELDS: Fields = {
    "Whiteboard": WHITEBOARD,
    "Concat": CONCAT,
    "MixStream": MIX_STREAM,
    "RecordControl": RECORD_CONTROL,
}
GENERATION_PARAMS = obj(PARAMETER_FIELDS, build=GenerationParams, error=RecordParameterError)

#: CreateVideoGenerationTask (reference §2.9); a params file has its shape, and may leave
#: out the two fields the API requires.
CREATE_VIDEO_GENERATION_TASK = obj(
    {
        "OnlineRecordTaskId": string(),
        "SdkAppId": integer(),
        **PARAMETER_FIELDS,
        "ExtraData": string(),
    },
    build=GenerationParams,
    error=InvalidParameter,
)


# --- the recording manifest (DESIGN §4.1) -----------------------------------------------


SEGMENT = obj(
    {
        "Url": string("url", rule=_not_empty),
        "StartTime": integer("start_ms", lo=0, hi=EPOCH_MAX),
        "Duration": integer(lo=0),  # informative only: durations are probed
    },
    build=Segment,
)

STREAM = obj(
    {
        "StreamId": string("stream_id", rule=_not_empty),
        "Segments": array(SEGMENT, "segments", default=()),
        "SmallSegments": array(SEGMENT, "small_segments", default=None),
    },
    build=Stream,
)

PAUSE = obj(
    {"PauseTime": integer("pause_ms", lo=0), "ResumeTime": integer("resume_ms", lo=0)},
    build=Pause,
    rule=_pause,
)


def _recording(
    *,
    whiteboard: Whiteboard | None,
    concat: Concat | None,
    mix_stream: MixStream | None,
    record_control: RecordControl | None,
    group_id: str,
    room_id: int,
    **rest: Any,
) -> Recording:
    params = GenerationParams(whiteboard, concat, mix_stream, record_control)
    return Recording(room_id=room_id, group_id=group_id or str(room_id), defaults=params, **rest)


#: ImportOnlineRecord's parameters (less SdkAppId) and a manifest file: StartOnlineRecord's
#: fields, the media that was recorded, and what the recorder knew of its own task.
MANIFEST = obj(
    {
        "RoomId": integer("room_id", required=True, lo=0),
        "GroupId": string("group_id", default=""),
        "RecordUserId": string("record_user_id", default=""),
        "RecordStartTimeMs": integer("start_ms", required=True, lo=0, hi=EPOCH_MAX),
        "RecordStopTimeMs": integer("stop_ms", default=None, lo=0, hi=EPOCH_MAX),
        "Pauses": array(PAUSE, "pauses", default=()),
        "Streams": array(STREAM, "streams", required=True),
        **PARAMETER_FIELDS,
        "AudioFileNeeded": boolean("audio_file_needed", default=False),
        "TaskId": string("task_id", default=""),
        "SdkAppId": integer("sdk_app_id", default=0, lo=0),
    },
    build=_recording,
    rule=_recording_rules,
    error=ManifestError,
)


# --- results (reference §3.10, §3.11) -------------------------------------------------------

OMITTED_DURATION = obj(
    {
        "VideoTime": integer("video_time"),
        "PauseTime": integer("pause_time"),
        "ResumeTime": integer("resume_time"),
    },
    build=OmittedDuration,
)

VIDEO_INFO = obj(
    {
        "VideoPlayTime": integer("play_time"),
        "VideoSize": integer("size"),
        "VideoFormat": string("format"),
        "VideoDuration": integer("duration"),
        "VideoUrl": string("url"),
        "VideoId": string("video_id", default=""),  # none given: one is derived from the URL
        "VideoType": integer("video_type"),
        "UserId": string("user_id"),
        "Width": integer("width"),
        "Height": integer("height"),
    },
    build=VideoInfo,
)

#: DescribeVideoGenerationTask's result fields.
GENERATION_RESULT = obj(
    {
        "TotalTime": integer("total_time"),
        "OmittedDurations": array(OMITTED_DURATION, "omitted"),
        "VideoInfoList": array(VIDEO_INFO, "videos"),
    },
    build=GenerationResult,
)


# --- action parameters (reference §2) -----------------------------------------------------

APP: Fields = {"SdkAppId": integer(required=True)}
APP_TASK: Fields = {"SdkAppId": integer(required=True), "TaskId": string(required=True)}
SET_CALLBACK: Fields = {"SdkAppId": integer(required=True), "Callback": string(required=True)}
SET_CALLBACK_KEY: Fields = {
    "SdkAppId": integer(required=True),
    "CallbackKey": string(required=True),
}
#: TIW spells the app ``SdkAppID`` here (reference §2.12).
DESCRIBE_RUNNING_TASKS: Fields = {
    "SdkAppID": integer(required=True),
    "TaskType": string(required=True),
    "Offset": integer(),
    "Limit": integer(),
}

START_ONLINE_RECORD: Fields = {
    "SdkAppId": integer(required=True),
    "RoomId": integer(required=True),
    "RecordUserId": string(required=True),
    "RecordUserSig": string(required=True),
    "GroupId": string(),
    **PARAMETER_FIELDS,
    "Extras": array(string()),
    "AudioFileNeeded": boolean(),
    "RecordMode": string(),
    "ChatGroupId": string(),
    "AutoStopTimeout": integer(),
    "ExtraData": string(),
    "TRTCRoomId": integer(),
    "TRTCRoomIdStr": string(),
}
