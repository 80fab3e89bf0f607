"""The generation report from facts: planning's notices and the pure report assembly."""

from __future__ import annotations

from dataclasses import replace

from mixdown.domain.media import MediaInfo, VideoTrack
from mixdown.domain.parameters import (
    Canvas,
    Concat,
    CustomLayout,
    GenerationParams,
    LayoutParams,
    MixStream,
    StreamLayout,
)
from mixdown.domain.report import (
    AUDIO_VIDEO_OFFSET,
    DECODE_ERRORS,
    DURATION_MISMATCH,
    RESOLUTION_CHANGE,
    SLOT_UNMATCHED,
    SOURCE_TRUNCATED,
    STREAM_NOT_SHOWN,
    Measured,
)
from mixdown.domain.timing import Span
from mixdown.planning.layout import layout_for
from mixdown.planning.planner import build_plan
from mixdown.planning.reporting import DecoderMessages, OutputFacts, build_report
from mixdown.planning.seating import seat, seating_notices

from .recordings import T0, media, recording

T1 = layout_for(MixStream(enabled=True, model_id=1))


def _codes(notices: tuple[object, ...]) -> list[str]:
    return [n.code for n in notices]  # type: ignore[attr-defined]


def _custom(*slots: tuple[str, int]) -> MixStream:
    """A 640x240 canvas with one 320x240 slot per (InputStreamId, x)."""
    return MixStream(
        enabled=True,
        custom=CustomLayout(
            Canvas(640, 240),
            tuple(
                StreamLayout(LayoutParams(x=x, width=320, height=240), input_stream_id=sid)
                for sid, x in slots
            ),
        ),
    )


# --- planning's notices -------------------------------------------------------------------


def test_a_fifth_camera_in_a_four_slot_template_is_reported_never_shown() -> None:
    presence = {f"u{i}": [Span(i, 100)] for i in range(5)}
    notices = seating_notices(T1, presence, seat(T1.slots, presence), heard={"u4"})
    assert _codes(notices) == [STREAM_NOT_SHOWN]
    (notice,) = notices
    assert notice.stream_id == "u4"
    assert "never shown" in notice.message and "no slot was free" in notice.message
    assert "still mixed" in notice.message


def test_a_camera_that_waits_for_a_slot_is_reported_with_the_time_it_was_hidden() -> None:
    presence = {f"u{i}": [Span(i * 1000, 20_000)] for i in range(5)}
    presence["u0"] = [Span(0, 10_000)]
    notices = seating_notices(T1, presence, seat(T1.slots, presence), heard=set())
    (notice,) = notices
    assert notice.stream_id == "u4"
    assert "not shown for 6.0 s of its 16.0 s" in notice.message
    assert "still mixed" not in notice.message  # it has no sound to mix


def test_a_custom_slot_whose_input_stream_id_matches_nothing_is_reported() -> None:
    layout = layout_for(_custom(("nobody", 0), ("", 320)))
    presence = {"teacher": [Span(0, 100)]}
    notices = seating_notices(layout, presence, seat(layout.slots, presence), heard=set())
    assert _codes(notices) == [SLOT_UNMATCHED]
    assert "InputStreamList[0] (InputStreamId 'nobody')" in notices[0].message
    assert "no stream of the recording matches it" in notices[0].message


def test_a_slot_whose_only_match_has_no_video_says_so() -> None:
    layout = layout_for(_custom(("mic", 0)))
    notices = seating_notices(layout, {}, [], heard={"mic"})
    assert _codes(notices) == [SLOT_UNMATCHED]
    assert "have no video (mic)" in notices[0].message


def test_a_whiteboard_with_no_slot_in_a_custom_layout_is_reported_as_having_no_slot() -> None:
    layout = layout_for(_custom(("teacher", 0)))
    presence = {"teacher": [Span(0, 100)], "tic_record_user": [Span(0, 100)]}
    notices = seating_notices(layout, presence, seat(layout.slots, presence), heard=set())
    assert _codes(notices) == [STREAM_NOT_SHOWN]
    assert "no slot of the layout takes it" in notices[0].message


def test_an_absent_screen_share_and_a_present_teacher_raise_nothing() -> None:
    layout = layout_for(MixStream(enabled=True, model_id=1, teacher_id="t"))
    presence = {"t": [Span(0, 100)], "tic_record_user": [Span(0, 100)]}
    assert seating_notices(layout, presence, seat(layout.slots, presence), heard={"t"}) == ()


def test_a_teacher_id_that_never_appears_is_reported() -> None:
    layout = layout_for(MixStream(enabled=True, model_id=1, teacher_id="t"))
    presence = {"a": [Span(0, 100)]}
    notices = seating_notices(layout, presence, seat(layout.slots, presence), heard=set())
    assert _codes(notices) == [SLOT_UNMATCHED]
    assert "TeacherId 't'" in notices[0].message


def test_the_plan_carries_the_mix_notices_and_nothing_on_other_outputs() -> None:
    rec = recording({"teacher": [("t.mp4", 0)]}, stop=10_000)
    params = GenerationParams(mix_stream=_custom(("nobody", 0)))
    plan = build_plan(rec, params, {"t.mp4": media(10_000)})
    mix = next(o for r in plan.renders for o in r.outputs if o.video_type == 3)
    others = [o for r in plan.renders for o in r.outputs if o.video_type != 3]
    assert _codes(mix.notices) == [SLOT_UNMATCHED, STREAM_NOT_SHOWN]
    assert others and all(o.notices == () for o in others)


# --- the report ---------------------------------------------------------------------------


def _facts(plan: object, **over: object) -> dict[str, OutputFacts]:
    out = {}
    for render in plan.renders:  # type: ignore[attr-defined]
        for o in render.outputs:
            video = 0 if o.video else None
            measured = Measured(o.duration, video, 0 if o.audio else None, 640, 480)
            out[o.name] = OutputFacts("encode", measured)
    for name, facts in over.items():
        out[name] = facts  # type: ignore[assignment]
    return out


def test_sources_and_ranges_follow_the_plan_across_a_pause() -> None:
    rec = recording({"cam": [("c.mp4", 1000)]}, stop=10_000, pauses=[(4000, 6000)])
    plan = build_plan(rec, GenerationParams(concat=Concat(True, "")), {"c.mp4": media(9000)})
    report = build_report(plan, rec, {"c.mp4": media(9000)}, _facts(plan))
    (out,) = [o for o in report.outputs if o.name.endswith(".mp4")]
    assert out.planned_ms == 7000 and out.measured.duration_ms == 7000
    by_track = {s.track: s for s in out.sources}
    assert set(by_track) == {"video", "audio"}
    for use in by_track.values():
        assert use.url == "c.mp4" and use.stream_id == "cam"
        ranges = [(r.start, r.end, r.at) for r in use.ranges]
        # 1 s..4 s of the class, then 6 s..10 s; the output starts with the camera.
        assert ranges == [(0, 3000, 0), (5000, 9000, 3000)]
    assert out.warnings == ()
    assert out.to_json()["AudioVideoOffset"] == 0


def test_a_truncated_source_is_reported_on_every_output_that_uses_it() -> None:
    info = replace(media(4000), complete=False, header_ms=22_000)
    rec = recording({"cam": [("c.mp4", 0)]}, stop=4000, audio_file=True)
    params = GenerationParams(mix_stream=MixStream(enabled=True, model_id=1))
    plan = build_plan(rec, params, {"c.mp4": info})
    report = build_report(plan, rec, {"c.mp4": info}, _facts(plan))
    assert len(report.outputs) == 3  # mix, camera video, mp3
    for out in report.outputs:
        assert _codes(out.warnings) == [SOURCE_TRUNCATED], out.name
        (w,) = out.warnings
        assert w.url == "c.mp4" and w.stream_id == "cam"
        assert "header claims 22.0 s but only 4.0 s can be read" in w.message
    assert len(report.warnings) == 1  # the same cause, counted once overall


def test_a_size_change_is_reported_where_the_picture_is_drawn_not_on_the_mp3() -> None:
    sizes = ((0, 640, 480), (5000, 1280, 720))
    base = media(10_000)
    assert base.video is not None
    info = replace(base, video=replace(base.video, sizes=sizes))
    assert isinstance(info.video, VideoTrack) and info.video.size_changes
    rec = recording({"cam": [("c.mp4", 0)]}, stop=10_000, audio_file=True)
    plan = build_plan(rec, GenerationParams(), {"c.mp4": info})
    report = build_report(plan, rec, {"c.mp4": info}, _facts(plan))
    by_format = {o.name.rsplit(".", 1)[1]: o for o in report.outputs}
    assert _codes(by_format["mp4"].warnings) == [RESOLUTION_CHANGE]
    assert "640x480 from 0.0 s, 1280x720 from 5.0 s" in by_format["mp4"].warnings[0].message
    assert by_format["mp3"].warnings == ()


def test_decoder_messages_name_their_file_or_every_candidate() -> None:
    rec = recording({"a": [("a.mp4", 0)], "b": [("b.mp4", 0)]}, stop=4000)
    probes: dict[str, MediaInfo] = {"a.mp4": media(4000), "b.mp4": media(4000)}
    params = GenerationParams(mix_stream=MixStream(enabled=True, model_id=1))
    plan = build_plan(rec, params, probes)
    mix = next(o for r in plan.renders for o in r.outputs if o.video_type == 3)
    a = next(i for i, x in enumerate(plan.inputs) if x.url == "a.mp4")
    decoding = DecoderMessages({a: 3}, (("h264", (0, 1), 5),))
    facts = _facts(plan, **{mix.name: OutputFacts("encode", Measured(4000, 0, 0), decoding)})
    out = next(o for o in build_report(plan, rec, probes, facts).outputs if o.name == mix.name)
    assert _codes(out.warnings) == [DECODE_ERRORS, DECODE_ERRORS]
    named, shared = out.warnings
    assert named.url == "a.mp4" and "reported 3 decoding error(s)" in named.message
    assert shared.url == "" and "one of a.mp4, b.mp4" in shared.message
    assert "h264 decoder reported 5 error(s)" in shared.message


def test_a_file_longer_than_planned_or_out_of_sync_is_reported_from_what_was_measured() -> None:
    rec = recording({"cam": [("c.mp4", 0)]}, stop=4000)
    plan = build_plan(rec, GenerationParams(), {"c.mp4": media(4000)})
    (name,) = [o.name for r in plan.renders for o in r.outputs]
    facts = _facts(plan, **{name: OutputFacts("splice", Measured(4300, 0, 120))})
    (out,) = build_report(plan, rec, {"c.mp4": media(4000)}, facts).outputs
    assert _codes(out.warnings) == [DURATION_MISMATCH, AUDIO_VIDEO_OFFSET]
    assert "lasts 4.3 s, planned 4.0 s" in out.warnings[0].message
    assert "audio starts 120 ms after the video" in out.warnings[1].message
    assert out.to_json()["Method"] == "splice"


def test_the_report_serialises_with_tiw_style_names_and_a_warning_count() -> None:
    info = replace(media(4000), complete=False, header_ms=8000)
    rec = recording({"cam": [("c.mp4", 0)]}, stop=4000)
    plan = build_plan(rec, GenerationParams(), {"c.mp4": info})
    doc = build_report(plan, rec, {"c.mp4": info}, _facts(plan)).to_json()
    assert doc["WarningCount"] == 1
    (out,) = doc["Outputs"]
    assert set(out) == {
        "FileName",
        "VideoType",
        "UserId",
        "Method",
        "PlannedDuration",
        "ActualDuration",
        "AudioVideoOffset",
        "Sources",
        "Warnings",
    }
    assert out["Warnings"][0] == {
        "Code": SOURCE_TRUNCATED,
        "Message": out["Warnings"][0]["Message"],
        "Url": "c.mp4",
        "StreamId": "cam",
    }
    assert out["Sources"][0]["Ranges"][0] == {"SourceStart": 0, "SourceEnd": 4000, "OutputStart": 0}
    assert T0  # recordings are anchored at T0; ranges are relative to the file and output
