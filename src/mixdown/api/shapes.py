"""The parameter shapes of TIW's types (reference §3) and of the manifest (DESIGN §4.1)."""

from __future__ import annotations

from mixdown.api.schema import Shape, array, boolean, integer, obj, string

_LAYOUT = obj(
    {"Width": integer(), "Height": integer(), "X": integer(), "Y": integer(), "ZOrder": integer()}
)
_STREAM_LAYOUT = obj(
    {
        "LayoutParams": _LAYOUT,
        "InputStreamId": string(),
        "BackgroundColor": string(),
        "FillMode": integer(),
    }
)
_CUSTOM = obj(
    {
        "Canvas": obj({"LayoutParams": _LAYOUT, "BackgroundColor": string()}),
        "InputStreamList": array(_STREAM_LAYOUT),
    }
)
_STREAM_CONTROL = obj(
    {
        "StreamId": string(),
        "DisableRecord": boolean(),
        "DisableAudio": boolean(),
        "PullSmallVideo": boolean(),
    }
)

#: Whiteboard, Concat, MixStream, RecordControl: what a generation may override.
GENERATION_PARAMS: Shape = {
    "Whiteboard": obj({"Width": integer(), "Height": integer(), "InitParam": string()}),
    "Concat": obj({"Enabled": boolean(), "Image": string()}),
    "MixStream": obj(
        {
            "Enabled": boolean(),
            "DisableAudio": boolean(),
            "ModelId": integer(),
            "TeacherId": string(),
            "Custom": _CUSTOM,
        }
    ),
    "RecordControl": obj(
        {
            "Enabled": boolean(),
            "DisableRecord": boolean(),
            "DisableAudio": boolean(),
            "PullSmallVideo": boolean(),
            "StreamControls": array(_STREAM_CONTROL),
        }
    ),
}

_SEGMENT = obj({"Url": string(), "StartTime": integer(), "Duration": integer()})

#: ImportOnlineRecord: the manifest's fields at the top level, like StartOnlineRecord's.
MANIFEST: Shape = {
    "RoomId": integer(True),
    "GroupId": string(),
    "RecordUserId": string(),
    "RecordStartTimeMs": integer(True),
    "RecordStopTimeMs": integer(),
    "Pauses": array(obj({"PauseTime": integer(), "ResumeTime": integer()})),
    "Streams": array(
        obj({"StreamId": string(), "Segments": array(_SEGMENT), "SmallSegments": array(_SEGMENT)}),
        required=True,
    ),
    **GENERATION_PARAMS,
    "AudioFileNeeded": boolean(),
}

APP = {"SdkAppId": integer(True)}
APP_TASK = {"SdkAppId": integer(True), "TaskId": string(True)}

START_ONLINE_RECORD: Shape = {
    "SdkAppId": integer(True),
    "RoomId": integer(True),
    "RecordUserId": string(True),
    "RecordUserSig": string(True),
    "GroupId": string(),
    **GENERATION_PARAMS,
    "Extras": array(string()),
    "AudioFileNeeded": boolean(),
    "RecordMode": string(),
    "ChatGroupId": string(),
    "AutoStopTimeout": integer(),
    "ExtraData": string(),
    "TRTCRoomId": integer(),
    "TRTCRoomIdStr": string(),
}
