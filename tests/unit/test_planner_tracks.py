"""Overlapping segments resolved per track (DESIGN §1) and what a per-stream piece is (§2).

File names say what a fake file carries: ``.mp4`` picture and sound, ``.mkv`` picture
only, ``.mka`` sound only. Offsets are ms from the recording start.
"""

from dataclasses import replace

from mixdown.domain.media import MediaInfo
from mixdown.domain.parameters import (
    Concat,
    GenerationParams,
    MixStream,
    RecordControl,
    StreamControl,
)
from mixdown.domain.timing import Span
from mixdown.planning.plan import Clip, OutputPlan, Plan
from mixdown.planning.planner import build_plan

from .recordings import media, recording

CONCAT = GenerationParams(concat=Concat(enabled=True))
PIECES = GenerationParams()  # no Concat: one video per continuous piece of media
MIX1 = GenerationParams(mix_stream=MixStream(enabled=True, model_id=1))


def picture(duration: int) -> MediaInfo:
    return media(duration, audio=False)


def sound(duration: int) -> MediaInfo:
    return media(duration, video=False)


def cams(plan: Plan) -> list[OutputPlan]:
    found = [o for r in plan.renders for o in r.outputs if o.video_type == 0]
    return sorted(found, key=lambda o: o.play_time)


def shown(out: OutputPlan) -> list[Clip]:
    assert out.video is not None
    return sorted((c for p in out.video.placements for c in p.clips), key=lambda c: c.at)


def heard(out: OutputPlan) -> list[Clip]:
    assert out.audio is not None and len(out.audio.lanes) == 1
    return list(out.audio.lanes[0])


# --- Who supplies each track, with Concat (one video per stream) ---


def test_a_reconnect_carrying_both_tracks_replaces_picture_and_sound() -> None:
    rec = recording({"a": [("a1.mp4", 0), ("a2.mp4", 8_000)]})
    (cam,) = cams(build_plan(rec, CONCAT, {"a1.mp4": media(10_000), "a2.mp4": media(10_000)}))
    assert shown(cam) == [Clip(0, Span(0, 8_000), 0), Clip(1, Span(0, 10_000), 8_000)]
    assert heard(cam) == [Clip(0, Span(0, 8_000), 0), Clip(1, Span(0, 10_000), 8_000)]


def test_the_old_sound_plays_on_until_a_reconnects_own_sound_starts() -> None:
    rec = recording({"a": [("a1.mp4", 0), ("a2.mp4", 8_000)]})
    probes = {"a1.mp4": media(10_000), "a2.mp4": media(10_000, audio_offset=500)}
    (cam,) = cams(build_plan(rec, CONCAT, probes))
    assert shown(cam) == [Clip(0, Span(0, 8_000), 0), Clip(1, Span(0, 10_000), 8_000)]
    assert heard(cam) == [Clip(0, Span(0, 8_500), 0), Clip(1, Span(500, 10_000), 8_500)]


def test_an_audio_only_file_over_a_video_file_keeps_the_picture_and_takes_the_sound() -> None:
    rec = recording({"a": [("cam.mp4", 0), ("mic.mka", 2_000)]})
    (cam,) = cams(build_plan(rec, CONCAT, {"cam.mp4": media(10_000), "mic.mka": sound(5_000)}))
    assert shown(cam) == [Clip(0, Span(0, 10_000), 0)]
    assert heard(cam) == [
        Clip(0, Span(0, 2_000), 0),
        Clip(1, Span(0, 5_000), 2_000),
        Clip(0, Span(7_000, 10_000), 7_000),
    ]


def test_a_video_only_file_over_an_audio_only_file_keeps_the_sound() -> None:
    rec = recording({"a": [("mic.mka", 0), ("cam.mkv", 1_000)]})
    (cam,) = cams(build_plan(rec, CONCAT, {"mic.mka": sound(10_000), "cam.mkv": picture(4_000)}))
    assert shown(cam) == [Clip(1, Span(0, 4_000), 1_000)]
    assert heard(cam) == [Clip(0, Span(0, 10_000), 0)]
    assert (cam.play_time, cam.duration) == (0, 10_000)


def test_an_audio_file_starting_after_a_video_only_file_leaves_the_whole_picture() -> None:
    rec = recording({"a": [("cam.mkv", 0), ("mic.mka", 500)]})
    (cam,) = cams(build_plan(rec, CONCAT, {"cam.mkv": picture(10_000), "mic.mka": sound(9_500)}))
    assert shown(cam) == [Clip(0, Span(0, 10_000), 0)]
    assert heard(cam) == [Clip(1, Span(0, 9_500), 500)]


def test_of_three_overlapping_files_each_track_comes_from_the_latest_that_carries_it() -> None:
    # cam1 (both) 0-10 s, mic (sound) 3-12 s, cam2 (both, a reconnect) 6-16 s.
    rec = recording({"a": [("cam1.mp4", 0), ("mic.mka", 3_000), ("cam2.mp4", 6_000)]})
    probes = {"cam1.mp4": media(10_000), "mic.mka": sound(9_000), "cam2.mp4": media(10_000)}
    (cam,) = cams(build_plan(rec, CONCAT, probes))
    assert shown(cam) == [Clip(0, Span(0, 6_000), 0), Clip(2, Span(0, 10_000), 6_000)]
    assert heard(cam) == [
        Clip(0, Span(0, 3_000), 0),
        Clip(1, Span(0, 3_000), 3_000),
        Clip(2, Span(0, 10_000), 6_000),
    ]


def test_a_gap_between_a_video_file_and_an_audio_file_is_filled_with_concat() -> None:
    rec = recording({"a": [("cam.mkv", 0), ("mic.mka", 6_000)]})
    (cam,) = cams(build_plan(rec, CONCAT, {"cam.mkv": picture(4_000), "mic.mka": sound(4_000)}))
    assert (cam.play_time, cam.duration) == (0, 10_000)
    assert shown(cam) == [Clip(0, Span(0, 4_000), 0)]
    assert heard(cam) == [Clip(1, Span(0, 4_000), 6_000)]


def test_the_mix_shows_the_camera_for_its_whole_video_file_and_plays_its_audio_file() -> None:
    rec = recording({"a": [("cam.mkv", 1_000), ("mic.mka", 1_500)]})
    plan = build_plan(rec, MIX1, {"cam.mkv": picture(6_000), "mic.mka": sound(5_500)})
    (mix,) = [o for r in plan.renders for o in r.outputs if o.video_type == 3]
    assert mix.video is not None
    (slot,) = mix.video.placements
    assert slot.clips == (Clip(0, Span(0, 6_000), 1_000),)
    assert mix.audio is not None and mix.audio.lanes == ((Clip(1, Span(0, 5_500), 1_500),),)


def test_with_its_audio_disabled_a_streams_audio_only_file_neither_cuts_nor_sounds() -> None:
    control = RecordControl(
        enabled=True,
        stream_controls=(
            StreamControl("a", disable_audio=True),
            StreamControl("b", disable_audio=True),
        ),
    )
    params = GenerationParams(record_control=control)
    rec = recording({"a": [("cam.mp4", 0), ("mic.mka", 2_000)], "b": [("b.mka", 0)]})
    probes = {"cam.mp4": media(10_000), "mic.mka": sound(5_000), "b.mka": sound(5_000)}
    plan = build_plan(rec, params, probes)
    assert [o.user_id for o in cams(plan)] == ["a"]  # b has nothing left
    (cam,) = cams(plan)
    assert shown(cam) == [Clip(0, Span(0, 10_000), 0)]
    assert cam.audio is None
    assert [i.url for i in plan.inputs] == ["cam.mp4"]  # no sound file is even read


# --- Without Concat: one video per continuous piece of media ---


def test_without_concat_a_video_file_and_its_later_audio_file_make_one_video() -> None:
    rec = recording({"a": [("cam.mkv", 0), ("mic.mka", 500)]}, audio_file=True)
    plan = build_plan(rec, PIECES, {"cam.mkv": picture(10_000), "mic.mka": sound(10_000)})
    (cam,) = cams(plan)
    assert (cam.play_time, cam.duration) == (0, 10_500)
    assert shown(cam) == [Clip(0, Span(0, 10_000), 0)]
    assert heard(cam) == [Clip(1, Span(0, 10_000), 500)]
    (mp3,) = [o for r in plan.renders for o in r.outputs if o.video_type == 4]
    assert (mp3.play_time, mp3.duration) == (0, 10_500)


def test_without_concat_sound_starting_before_the_picture_opens_its_video() -> None:
    rec = recording({"a": [("mic.mka", 0), ("cam.mkv", 500)]})
    (cam,) = cams(build_plan(rec, PIECES, {"mic.mka": sound(3_000), "cam.mkv": picture(4_000)}))
    assert (cam.play_time, cam.duration) == (0, 4_500)
    assert shown(cam) == [Clip(1, Span(0, 4_000), 500)]
    assert heard(cam) == [Clip(0, Span(0, 3_000), 0)]


def test_without_concat_a_reconnect_still_starts_a_new_video() -> None:
    rec = recording({"a": [("a1.mp4", 0), ("a2.mp4", 8_000)]})
    probes = {"a1.mp4": media(10_000), "a2.mp4": media(10_000, audio_offset=500)}
    first, second = cams(build_plan(rec, PIECES, probes))
    assert (first.play_time, first.duration) == (0, 8_000)
    assert (heard(first), shown(first)) == ([Clip(0, Span(0, 8_000), 0)],) * 2
    assert (second.play_time, second.duration) == (8_000, 10_000)
    assert shown(second) == [Clip(1, Span(0, 10_000), 0)]
    # Until the reconnect's own sound starts, the old file's is heard in the new video.
    assert heard(second) == [Clip(0, Span(8_000, 8_500), 0), Clip(1, Span(500, 10_000), 500)]


def test_without_concat_a_sound_file_over_two_pictures_is_shared_where_the_second_starts() -> None:
    rec = recording({"a": [("cam1.mkv", 0), ("mic.mka", 1_000), ("cam2.mkv", 5_000)]})
    probes = {"cam1.mkv": picture(6_000), "mic.mka": sound(8_000), "cam2.mkv": picture(5_000)}
    first, second = cams(build_plan(rec, PIECES, probes))
    assert (first.play_time, first.duration) == (0, 5_000)
    assert shown(first) == [Clip(0, Span(0, 5_000), 0)]
    assert heard(first) == [Clip(1, Span(0, 4_000), 1_000)]
    assert (second.play_time, second.duration) == (5_000, 5_000)
    assert shown(second) == [Clip(2, Span(0, 5_000), 0)]
    assert heard(second) == [Clip(1, Span(4_000, 8_000), 0)]


def test_without_concat_a_video_file_and_an_audio_file_apart_make_two_videos() -> None:
    rec = recording({"a": [("cam.mkv", 0), ("mic.mka", 6_000)]})
    first, second = cams(
        build_plan(rec, PIECES, {"cam.mkv": picture(4_000), "mic.mka": sound(4_000)})
    )
    assert (first.play_time, first.duration, first.audio) == (0, 4_000, None)
    assert (second.play_time, second.duration, second.video) == (6_000, 4_000, None)


def test_without_concat_a_pause_cuts_picture_and_sound_from_two_files_into_two_videos() -> None:
    rec = recording({"a": [("cam.mkv", 0), ("mic.mka", 500)]}, pauses=[(4_000, 6_000)])
    first, second = cams(
        build_plan(rec, PIECES, {"cam.mkv": picture(10_000), "mic.mka": sound(9_000)})
    )
    assert (first.play_time, first.duration) == (0, 4_000)
    assert (shown(first), heard(first)) == (
        [Clip(0, Span(0, 4_000), 0)],
        [Clip(1, Span(0, 3_500), 500)],
    )
    assert (second.play_time, second.duration) == (4_000, 4_000)
    assert (shown(second), heard(second)) == (
        [Clip(0, Span(6_000, 10_000), 0)],
        [Clip(1, Span(5_500, 9_000), 0)],
    )


# --- A video whose tracks come from two files is never remuxed as one file ---


def h264(info: MediaInfo) -> MediaInfo:
    video = replace(info.video, codec="h264", pix_fmt="yuv420p") if info.video else None
    audio = replace(info.audio, codec="aac") if info.audio else None
    return MediaInfo(video=video, audio=audio, container="mov,mp4,m4a,3gp,3g2,mj2")


def test_picture_and_sound_from_two_mp4_ready_files_are_not_remuxed_as_one() -> None:
    rec = recording({"a": [("cam.mp4", 0), ("mic.m4a", 0)]})
    probes = {"cam.mp4": h264(picture(5_000)), "mic.m4a": h264(sound(5_000))}
    for params in (CONCAT, PIECES):
        (cam,) = cams(build_plan(rec, params, probes))
        assert cam.copy is None
        assert shown(cam) == [Clip(0, Span(0, 5_000), 0)]
        assert heard(cam) == [Clip(1, Span(0, 5_000), 0)]


def test_a_file_whose_sound_an_audio_file_replaces_in_part_is_not_remuxed() -> None:
    rec = recording({"a": [("cam.mp4", 0), ("mic.m4a", 1_000)]})
    probes = {"cam.mp4": h264(media(5_000)), "mic.m4a": h264(sound(1_000))}
    for params in (CONCAT, PIECES):
        (cam,) = cams(build_plan(rec, params, probes))
        assert cam.copy is None
