"""A file whose picture size changes: how the plan sizes and routes it, and the graph text
that fits every frame (DESIGN §1, §3). Constant-size inputs keep today's graph exactly."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mixdown.domain.geometry import Rect
from mixdown.domain.media import MediaInfo
from mixdown.domain.parameters import Concat, GenerationParams
from mixdown.domain.timing import Span
from mixdown.planning.plan import (
    AudioPlan,
    Clip,
    Input,
    OutputPlan,
    Placement,
    Plan,
    Render,
    VideoPlan,
)
from mixdown.planning.planner import build_plan
from mixdown.render.command import build_command
from mixdown.settings import Encoding

from .recordings import media, recording

CONCAT = GenerationParams(concat=Concat(enabled=True))


def h264(duration: int, sizes: tuple[tuple[int, int, int], ...] = ()) -> MediaInfo:
    """An mp4-ready H.264 + AAC file (remuxable, spliceable) with the given size runs."""
    info = media(duration)
    assert info.video is not None and info.audio is not None
    video = replace(info.video, codec="h264", pix_fmt="yuv420p", sizes=sizes)
    return MediaInfo(video=video, audio=replace(info.audio, codec="aac"), container="mp4")


#: A WebRTC camera: 640x480 (its header's size) for 5 s, then 1280x720 for 20 s.
RAMP_UP = ((0, 640, 480), (5_000, 1280, 720))


def cams(plan: Plan) -> list[OutputPlan]:
    return [o for r in plan.renders for o in r.outputs if o.video_type == 0]


# --- plan ------------------------------------------------------------------------------


def test_each_size_of_a_file_counts_for_its_own_time_in_the_per_stream_size() -> None:
    rec = recording({"a": [("a.mp4", 0)]})
    (cam,) = cams(build_plan(rec, CONCAT, {"a.mp4": h264(25_000, RAMP_UP)}))
    assert cam.video is not None and (cam.video.width, cam.video.height) == (1280, 720)


def test_size_runs_and_whole_files_are_weighed_together_across_segments() -> None:
    # 12 s of 640x480 (a 10 s file, and 2 s of a changing one) beat its 8 s of 1280x720.
    rec = recording({"a": [("a1.mp4", 0), ("a2.mp4", 10_000)]})
    probes = {
        "a1.mp4": h264(10_000),
        "a2.mp4": h264(10_000, ((0, 640, 480), (2_000, 1280, 720))),
    }
    (cam,) = cams(build_plan(rec, CONCAT, probes))
    assert cam.video is not None and (cam.video.width, cam.video.height) == (640, 480)


def test_a_file_whose_size_changes_is_neither_remuxed_nor_spliced() -> None:
    rec = recording({"a": [("a.mp4", 0)], "b": [("b.mp4", 0)]})
    probes = {"a.mp4": h264(25_000, RAMP_UP), "b.mp4": h264(25_000, ((0, 640, 480),))}
    plan = build_plan(rec, CONCAT, probes)
    by_user = {o.user_id: o for o in cams(plan)}
    assert by_user["a"].copy is None and not by_user["a"].splice
    assert by_user["b"].copy is not None  # one size run: remuxed as before
    assert [i.size_changes for i in plan.inputs] == [True, False]


def test_a_file_whose_size_changes_is_not_spliced_with_others() -> None:
    rec = recording({"a": [("a1.mp4", 0), ("a2.mp4", 30_000)]})
    probes = {"a1.mp4": h264(25_000, RAMP_UP), "a2.mp4": h264(20_000)}
    plan = build_plan(rec, CONCAT, probes)
    (cam,) = cams(plan)
    assert cam.video is not None and (cam.video.width, cam.video.height) == (640, 480)
    assert cam.copy is None and not cam.splice
    # Without the change the same recording is spliced (sizes agree, H.264 in mp4).
    plain = {"a1.mp4": h264(25_000), "a2.mp4": h264(20_000)}
    assert cams(build_plan(rec, CONCAT, plain))[0].splice


def test_without_concat_each_piece_takes_the_size_it_shows_longest() -> None:
    # A pause cuts the file into 0-4 s (all 640x480) and 10-25 s (all 1280x720).
    rec = recording({"a": [("a.mp4", 0)]}, pauses=[(4_000, 10_000)])
    plan = build_plan(rec, GenerationParams(), {"a.mp4": h264(25_000, RAMP_UP)})
    sizes = sorted((o.play_time, o.video.width, o.video.height) for o in cams(plan) if o.video)
    assert sizes == [(0, 640, 480), (4_000, 1280, 720)]


def test_the_size_change_flag_round_trips_and_old_plans_read_as_constant_size() -> None:
    rec = recording({"a": [("a.mp4", 0)]})
    plan = build_plan(rec, CONCAT, {"a.mp4": h264(25_000, RAMP_UP)})
    assert Plan.from_json(json.loads(plan.dumps())) == plan
    stored = json.loads(plan.dumps())
    for item in stored["inputs"]:
        del item["size_changes"]  # a plan written before the field existed
    assert [i.size_changes for i in Plan.from_json(stored).inputs] == [False]


# --- graph -----------------------------------------------------------------------------


def mix_plan(size_changes: bool) -> Plan:
    """A fitted tile (input 0, from 1 s) and a covering one (input 1)."""
    a = (Clip(0, Span(0, 4_000), 1_000),)
    b = (Clip(1, Span(500, 5_000), 0),)
    fit = Placement(0, a, Rect(0, 0, 320, 240), 0, 0, "#102030")
    cover = Placement(1, b, Rect(320, 0, 320, 240), 0, 1, "#000000")
    video = VideoPlan(640, 240, "#34363B", "", (fit, cover))
    out = OutputPlan("mix.mp4", "mp4", 3, "m", 0, 5_000, video, AudioPlan((a, b)))
    inputs = tuple(Input(u, True, True, size_changes=size_changes) for u in ("a.mp4", "b.flv"))
    return Plan(5_000, (), inputs, (Render((out,), 5_000),))


def graph(plan: Plan) -> list[str]:
    cmd = build_command(
        "ffmpeg", plan, plan.renders[0], {"a.mp4": "a", "b.flv": "b"}, Path("/o"), Encoding()
    )
    return cmd.argv[cmd.argv.index("-filter_complex") + 1].split(";")


def test_constant_size_tiles_keep_the_scale_pad_and_scale_crop_graph() -> None:
    # The exact text the graph had before size changes were handled: the common case
    # pays nothing for them.
    cut_a = (
        "trim=end=4.000,select='gte(t,0.000)*lt(t,4.000)',settb=1/90000,"
        "setpts='round((T+1.000-15/15)/TB)',fps=15:start_time=0,"
    )
    cut_b = (
        "trim=end=5.000,select='gte(t,0.500)*lt(t,5.000)',settb=1/90000,"
        "setpts='round((T+-0.500-0/15)/TB)',fps=15:start_time=0,"
    )
    chains = graph(mix_plan(size_changes=False))
    assert chains[4:9] == [
        "color=c=0x34363B:s=640x240:r=15:d=5.000,format=yuv420p[bg1]",
        f"[u2]{cut_a}scale=320:240:force_original_aspect_ratio=decrease:force_divisible_by=2:"
        "flags=bicubic,pad=320:240:(ow-iw)/2:(oh-ih)/2:color=0x102030,tpad=start=15[t3]",
        "[bg1][t3]overlay=0:0:eof_action=pass:enable='between(t,1.000,5.000)'[v4]",
        f"[u5]{cut_b}scale=320:240:force_original_aspect_ratio=increase:flags=bicubic,"
        "crop=320:240[t6]",
        "[v4][t6]overlay=320:0:eof_action=pass:enable='between(t,0.000,4.500)'[v7]",
    ]


def test_a_resizing_input_is_centred_frame_by_frame_on_a_slot_sized_background() -> None:
    chains = graph(mix_plan(size_changes=True))
    text = ";".join(chains)
    assert ",pad=" not in text and ",crop=" not in text
    # Fit: scale keeps the aspect ratio for every new size; the overlay re-centres each
    # frame by its own w/h on the slot's background, then the lead is padded as before.
    assert any(
        c.endswith("scale=320:240:force_original_aspect_ratio=decrease:force_divisible_by=2:"
                   "flags=bicubic[z3]")
        for c in chains
    )  # fmt: skip
    assert "color=c=0x102030:s=320x240:r=15[zb4]" in chains
    assert "[zb4][z3]overlay=x='(W-w)/2':y='(H-h)/2':eval=frame:shortest=1,tpad=start=15[t5]" in (
        chains
    )
    # Cover: scaled up to cover, centred, the overflow clipped by the slot-sized base.
    assert any(c.endswith("force_original_aspect_ratio=increase:flags=bicubic[z8]") for c in chains)
    assert "[zb9][z8]overlay=x='(W-w)/2':y='(H-h)/2':eval=frame:shortest=1[t10]" in chains
    # The tiles are placed on the canvas as before.
    assert "[v6][t10]overlay=320:0:eof_action=pass:enable='between(t,0.000,4.500)'[v11]" in chains


@pytest.mark.parametrize("size_changes", [False, True])
def test_only_the_resizing_input_gets_the_per_frame_tile(size_changes: bool) -> None:
    plan = mix_plan(size_changes=False)
    inputs = (plan.inputs[0], replace(plan.inputs[1], size_changes=size_changes))
    text = ";".join(graph(replace(plan, inputs=inputs)))
    assert "pad=320:240" in text  # input 0 never changes size
    assert ("eval=frame" in text) is size_changes
