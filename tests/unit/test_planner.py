import json
from dataclasses import replace

import pytest

from mixdown.domain.geometry import Rect
from mixdown.domain.media import MediaInfo
from mixdown.domain.parameters import (
    Concat,
    GenerationParams,
    MixStream,
    RecordControl,
    StreamControl,
    Whiteboard,
)
from mixdown.domain.recording import Recording, Segment, Stream
from mixdown.domain.timing import Span
from mixdown.errors import MediaError
from mixdown.planning.plan import Clip, OutputPlan, Plan
from mixdown.planning.planner import build_plan, recording_stop

from .recordings import T0, media, recording

MIX1 = GenerationParams(mix_stream=MixStream(enabled=True, model_id=1))
CONCAT = GenerationParams(concat=Concat(enabled=True))


def outputs(plan: Plan) -> dict[str, OutputPlan]:
    return {o.name: o for r in plan.renders for o in r.outputs}


def by_type(plan: Plan, video_type: int) -> list[OutputPlan]:
    return [o for o in outputs(plan).values() if o.video_type == video_type]


def test_a_segment_crossing_a_pause_is_one_spliced_video_with_concat() -> None:
    rec = recording({"a": [("a.mp4", 10_000)]}, pauses=[(20_000, 25_000)])
    plan = build_plan(rec, CONCAT, {"a.mp4": media(20_000)})
    (cam,) = by_type(plan, 0)
    assert (cam.play_time, cam.duration) == (10_000, 15_000)
    assert cam.video is not None
    (placement,) = cam.video.placements
    assert placement.clips == (Clip(0, Span(0, 10_000), 0), Clip(0, Span(15_000, 20_000), 10_000))
    assert plan.total_time == 55_000


def test_without_concat_a_segment_cut_by_a_pause_gives_two_videos() -> None:
    rec = recording({"a": [("a.mp4", 10_000)]}, pauses=[(20_000, 25_000)])
    plan = build_plan(rec, GenerationParams(), {"a.mp4": media(20_000)})
    cams = sorted(by_type(plan, 0), key=lambda o: o.play_time)
    assert [(o.play_time, o.duration) for o in cams] == [(10_000, 10_000), (20_000, 5_000)]


def test_concat_fills_the_gap_between_segments_and_spans_first_to_last_media() -> None:
    rec = recording({"a": [("a1.mp4", 5_000), ("a2.mp4", 30_000)]})
    params = GenerationParams(concat=Concat(enabled=True, image="/img.png"))
    plan = build_plan(rec, params, {"a1.mp4": media(10_000), "a2.mp4": media(5_000)}, "/img.png")
    (cam,) = by_type(plan, 0)
    assert (cam.play_time, cam.duration) == (5_000, 30_000)
    assert cam.video is not None and cam.video.image == "/img.png"
    assert [p.clips[0].at for p in cam.video.placements] == [0, 25_000]
    assert cam.audio is not None
    assert [c.at for c in cam.audio.lanes[0]] == [0, 25_000]


def test_overlapping_segments_hand_over_to_the_one_that_started_later() -> None:
    rec = recording({"a": [("a1.mp4", 0), ("a2.mp4", 8_000)]})
    plan = build_plan(rec, CONCAT, {"a1.mp4": media(10_000), "a2.mp4": media(10_000)})
    (cam,) = by_type(plan, 0)
    assert cam.video is not None
    clips = [c for p in cam.video.placements for c in p.clips]
    assert clips == [Clip(0, Span(0, 8_000), 0), Clip(1, Span(0, 10_000), 8_000)]
    assert cam.duration == 18_000


def test_segments_before_the_start_and_after_the_stop_are_trimmed() -> None:
    rec = recording({"a": [("a.mp4", -3_000)], "b": [("b.mp4", 58_000)]}, stop=60_000)
    plan = build_plan(rec, CONCAT, {"a.mp4": media(5_000), "b.mp4": media(5_000)})
    cams = {o.user_id: o for o in by_type(plan, 0)}
    assert cams["a"].video is not None
    assert cams["a"].video.placements[0].clips == (Clip(0, Span(3_000, 5_000), 0),)
    assert (cams["b"].play_time, cams["b"].duration) == (58_000, 2_000)


def test_a_segment_outside_the_recording_and_a_zero_length_one_produce_nothing() -> None:
    rec = recording({"a": [("a.mp4", 70_000)], "b": [("b.mp4", 1_000)]}, stop=60_000)
    plan = build_plan(rec, CONCAT, {"a.mp4": media(5_000), "b.mp4": media(0)})
    assert by_type(plan, 0) == []


def test_the_stop_time_defaults_to_the_end_of_the_last_media() -> None:
    rec = recording({"a": [("a.mp4", 2_000)]}, stop=None)
    plan = build_plan(rec, CONCAT, {"a.mp4": media(7_000)})
    assert plan.total_time == 9_000


def test_a_stream_with_no_video_gets_an_audio_only_file_and_no_mix_slot() -> None:
    rec = recording({"a": [("a.m4a", 0)]})
    params = GenerationParams(concat=Concat(enabled=True), mix_stream=MIX1.mix_stream)
    plan = build_plan(rec, params, {"a.m4a": media(5_000, video=False)})
    (cam,) = by_type(plan, 0)
    assert cam.video is None and cam.audio is not None
    (mix,) = by_type(plan, 3)
    assert mix.video is not None and mix.video.placements == ()
    assert mix.audio is not None and len(mix.audio.lanes) == 1


def test_a_stream_with_no_audio_gets_a_silent_video_and_no_mix_lane() -> None:
    rec = recording({"a": [("a.mp4", 0)]})
    params = GenerationParams(concat=Concat(enabled=True), mix_stream=MIX1.mix_stream)
    plan = build_plan(rec, params, {"a.mp4": media(5_000, audio=False)})
    (cam,) = by_type(plan, 0)
    assert cam.video is not None and cam.audio is None
    (mix,) = by_type(plan, 3)
    assert mix.audio is None


def test_the_per_stream_size_is_the_resolution_that_covers_the_most_time() -> None:
    rec = recording({"a": [("a1.mp4", 0), ("a2.mp4", 5_000)]})
    probes = {"a1.mp4": media(5_000, size=(320, 240)), "a2.mp4": media(20_000, size=(1281, 719))}
    (cam,) = by_type(build_plan(rec, CONCAT, probes), 0)
    assert cam.video is not None and (cam.video.width, cam.video.height) == (1282, 720)


def test_the_whiteboard_is_fitted_into_the_whiteboard_size() -> None:
    rec = recording({"tic_record_user": [("wb.mp4", 0)]})
    params = GenerationParams(whiteboard=Whiteboard(640, 360), concat=Concat(enabled=True))
    (board,) = by_type(build_plan(rec, params, {"wb.mp4": media(5_000)}), 2)
    assert board.user_id == ""
    assert board.video is not None and (board.video.width, board.video.height) == (640, 360)


def test_mix_places_cameras_in_slots_and_sums_every_stream_audio() -> None:
    rec = recording(
        {"tic_record_user": [("wb.mp4", 0)], "b": [("b.mp4", 0)], "a": [("a.mp4", 4_000)]}
    )
    probes = {"wb.mp4": media(60_000, audio=False), "a.mp4": media(5_000), "b.mp4": media(5_000)}
    (mix,) = by_type(build_plan(rec, MIX1, probes), 3)
    assert (mix.user_id, mix.play_time, mix.duration) == ("tic_mixstream_42_1", 0, 60_000)
    assert mix.video is not None
    rects = [(p.input, p.rect) for p in mix.video.placements]
    assert rects == [
        (0, Rect(20, 256, 1280, 960)),
        (1, Rect(8, 8, 320, 240)),
        (2, Rect(336, 8, 320, 240)),
    ]
    assert mix.audio is not None and len(mix.audio.lanes) == 2


def test_mix_disable_audio_leaves_the_mix_silent() -> None:
    rec = recording({"a": [("a.mp4", 0)]})
    params = GenerationParams(mix_stream=MixStream(enabled=True, model_id=2, disable_audio=True))
    (mix,) = by_type(build_plan(rec, params, {"a.mp4": media(5_000)}), 3)
    assert mix.audio is None and mix.user_id == "tic_mixstream_42_2"


def test_record_control_drops_streams_and_audio_everywhere() -> None:
    control = RecordControl(
        enabled=True,
        stream_controls=(
            StreamControl("a", disable_record=True),
            StreamControl("b", disable_audio=True),
        ),
    )
    params = GenerationParams(
        mix_stream=MIX1.mix_stream, record_control=control, concat=Concat(enabled=True)
    )
    rec = recording({"a": [("a.mp4", 0)], "b": [("b.mp4", 0)]}, audio_file=True)
    plan = build_plan(rec, params, {"a.mp4": media(5_000), "b.mp4": media(5_000)})
    assert [o.user_id for o in by_type(plan, 0)] == ["b"]
    assert by_type(plan, 0)[0].audio is None
    assert by_type(plan, 4) == []  # no audio left for an mp3
    (mix,) = by_type(plan, 3)
    assert mix.audio is None


def test_pull_small_video_uses_small_segments_and_falls_back_to_the_main_ones() -> None:
    rec = Recording(
        room_id=1,
        group_id="1",
        start_ms=T0,
        stop_ms=T0 + 10_000,
        streams=(
            Stream("a", (Segment("a.mp4", T0),), (Segment("a_small.mp4", T0),)),
            Stream("b", (Segment("b.mp4", T0),), None),
        ),
    )
    params = GenerationParams(
        concat=Concat(enabled=True),
        record_control=RecordControl(enabled=True, pull_small_video=True),
    )
    probes = {u: media(5_000) for u in ("a.mp4", "a_small.mp4", "b.mp4")}
    plan = build_plan(rec, params, probes)
    assert sorted(i.url for i in plan.inputs) == ["a_small.mp4", "b.mp4"]


def test_task_parameters_replace_the_recording_defaults_object_by_object() -> None:
    defaults = GenerationParams(mix_stream=MixStream(enabled=True, model_id=2), concat=Concat(True))
    rec = recording({"a": [("a1.mp4", 0), ("a2.mp4", 8_000)]}, defaults=defaults)
    probes = {"a1.mp4": media(2_000), "a2.mp4": media(2_000)}
    plan = build_plan(rec, GenerationParams(mix_stream=MixStream(enabled=False)), probes)
    assert by_type(plan, 3) == []  # the task's MixStream replaced the default
    assert len(by_type(plan, 0)) == 1  # Concat still comes from the recording


def test_audio_files_follow_the_per_stream_span_rule() -> None:
    rec = recording({"a": [("a.mp4", 1_000)]}, audio_file=True)
    (mp3,) = by_type(build_plan(rec, CONCAT, {"a.mp4": media(4_000)}), 4)
    assert (mp3.format, mp3.play_time, mp3.duration, mp3.video) == ("mp3", 1_000, 4_000, None)


def test_an_audio_track_starting_late_in_its_file_keeps_its_offset() -> None:
    rec = recording({"a": [("a.mp4", 1_000)]})
    (cam,) = by_type(build_plan(rec, CONCAT, {"a.mp4": media(4_000, audio_offset=500)}), 0)
    assert cam.audio is not None
    assert cam.audio.lanes[0] == (Clip(0, Span(500, 4_000), 500),)


def test_a_missing_probe_is_reported_with_the_file_name() -> None:
    rec = recording({"a": [("a.mp4", 0)]})
    with pytest.raises(MediaError, match=r"a\.mp4"):
        build_plan(rec, CONCAT, {})


def test_the_plan_round_trips_through_json() -> None:
    rec = recording(
        {"tic_record_user": [("wb.mp4", 0)], "a": [("a.mp4", 0)]}, pauses=[(1_000, 2_000)]
    )
    plan = build_plan(rec, MIX1, {"wb.mp4": media(5_000), "a.mp4": media(5_000)})
    assert Plan.from_json(json.loads(plan.dumps())) == plan


def h264(duration: int, **kw: object) -> MediaInfo:
    from dataclasses import replace

    from mixdown.domain.media import MediaInfo

    info = media(duration)
    assert info.video is not None and info.audio is not None
    video = replace(info.video, codec="h264", pix_fmt="yuv420p", **kw)  # type: ignore[arg-type]
    return MediaInfo(video=video, audio=replace(info.audio, codec="aac"))


@pytest.mark.parametrize(
    ("probe", "pauses", "copied"),
    [
        (h264(5_000), [], True),
        (h264(5_000), [(2_000, 3_000)], False),  # cut by a pause: re-encoded
        (h264(5_000, rotation=90), [], False),
        (media(5_000), [], False),  # unknown codec
    ],
)
def test_a_per_stream_video_that_is_one_whole_mp4_ready_segment_is_remuxed(
    probe: MediaInfo, pauses: list[tuple[int, int]], copied: bool
) -> None:
    rec = recording({"a": [("a.mp4", 1_000)]}, pauses=pauses, audio_file=True)
    plan = build_plan(rec, CONCAT, {"a.mp4": probe})
    (cam,) = by_type(plan, 0)
    assert (cam.copy is not None) is copied
    (mp3,) = by_type(plan, 4)
    assert mp3.copy is None
    if copied:
        assert [len(r.outputs) for r in plan.renders] == [1, 1]  # the remux runs on its own


def test_a_recording_without_a_stop_ends_with_its_last_media_main_or_small() -> None:
    rec = recording({"cam": [("a.mp4", 0)]}, stop=None)
    small = replace(rec.streams[0], small_segments=(Segment("s.mp4", T0 + 1000),))
    rec = replace(rec, streams=(small,))
    probes = {"a.mp4": media(5000), "s.mp4": media(6000)}
    # One rule for DescribeOnlineRecord's TotalTime and for the generation's timeline.
    assert recording_stop(rec, probes) == T0 + 7000
    assert build_plan(rec, GenerationParams(), probes).total_time == 7000
    assert recording_stop(replace(rec, stop_ms=T0 + 3000), probes) == T0 + 3000
    late = replace(rec, start_ms=T0 + 10_000)  # every file ends before the start
    assert recording_stop(late, probes) is None
