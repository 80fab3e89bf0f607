from dataclasses import replace
from pathlib import Path

import pytest

from mixdown.domain.geometry import Rect
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
from mixdown.render.command import build_command
from mixdown.render.filtergraph import samples, sec
from mixdown.settings import Encoding


def make_plan() -> Plan:
    clips = (Clip(0, Span(0, 3_000), 1_000), Clip(0, Span(4_000, 6_000), 4_000))
    video = VideoPlan(
        320,
        240,
        "#000000",
        "/fill.png",
        (Placement(0, clips, Rect(0, 0, 320, 240), 0, 1, "#000000"),),
    )
    audio = AudioPlan((clips,))
    cam = OutputPlan("cam.mp4", "mp4", 0, "a", 0, 7_000, video, audio)
    mp3 = OutputPlan("a.mp3", "mp3", 4, "a", 0, 7_000, None, audio)
    return Plan(7_000, (), (Input("a.flv", True, True),), (Render((cam, mp3), 7_000),))


def graph_of(argv: tuple[str, ...]) -> str:
    return argv[argv.index("-filter_complex") + 1]


def test_seconds_and_samples_are_exact() -> None:
    assert (sec(1), sec(-1500), sec(61_005)) == ("0.001", "-1.500", "61.005")
    assert samples(1_000) == 48_000 and samples(21) == 1008


def test_each_input_is_decoded_once_and_split_between_its_users() -> None:
    plan = make_plan()
    cmd = build_command(
        "ffmpeg",
        plan,
        plan.renders[0],
        {"a.flv": "/m/a.flv", "/fill.png": "/fill.png"},
        Path("/out"),
        Encoding(),
    )
    assert cmd.argv.count("-i") == 2  # the segment and the filler image
    graph = graph_of(cmd.argv)
    assert graph.count("[0:v]") == 1 and graph.count("[0:a]asplit=2") == 1
    assert cmd.temp_paths == (Path("/out/.cam.mp4.part"), Path("/out/.a.mp3.part"))


def test_clips_are_cut_by_select_and_shifted_by_a_piecewise_setpts() -> None:
    plan = make_plan()
    graph = graph_of(
        build_command(
            "ffmpeg",
            plan,
            plan.renders[0],
            {"a.flv": "a", "/fill.png": "f"},
            Path("/o"),
            Encoding(),
        ).argv
    )
    assert "select='(gte(t,0.000)*lt(t,3.000)+gte(t,4.000)*lt(t,6.000))'" in graph
    # The tile is padded with 15 generated frames (1 s) up to its first clip.
    assert "settb=1/90000,setpts='round((T+if(lt(T,4.000),1.000,0.000)-15/15)/TB)'" in graph
    assert "tpad=start=15" in graph
    # trim ends the tile after its last clip so the input is not decoded to its end.
    assert "trim=end=6.000," in graph
    assert "enable='(between(t,1.000,4.000)+between(t,4.000,6.000))'" in graph
    # FillMode 1 covers and crops instead of padding; a full-canvas tile scales bicubic.
    assert "force_original_aspect_ratio=increase:flags=bicubic,crop=320:240" in graph


def test_tiles_of_a_quarter_of_the_canvas_or_less_scale_bilinear() -> None:
    plan = make_plan()
    output = plan.renders[0].outputs[0]
    assert output.video is not None
    placement = replace(output.video.placements[0], rect=Rect(0, 0, 160, 120))
    video = replace(output.video, placements=(placement,))
    render = Render((replace(output, video=video),), plan.renders[0].duration)
    graph = graph_of(
        build_command(
            "ffmpeg", plan, render, {"a.flv": "a", "/fill.png": "f"}, Path("/o"), Encoding()
        ).argv
    )
    assert "scale=160:120:force_original_aspect_ratio=increase:flags=bilinear" in graph


def test_audio_lanes_are_built_from_exact_sample_counts_and_silence() -> None:
    plan = make_plan()
    graph = graph_of(
        build_command(
            "ffmpeg",
            plan,
            plan.renders[0],
            {"a.flv": "a", "/fill.png": "f"},
            Path("/o"),
            Encoding(),
        ).argv
    )
    assert f"atrim=end_sample={samples(1_000)}" in graph  # leading silence
    assert f"apad=whole_len={samples(3_000)},atrim=end_sample={samples(3_000)}" in graph
    assert "concat=n=4:v=0:a=1" in graph  # silence, clip, clip, trailing silence


def test_outputs_get_their_encoders() -> None:
    plan = make_plan()
    argv = build_command(
        "ffmpeg",
        plan,
        plan.renders[0],
        {"a.flv": "a", "/fill.png": "f"},
        Path("/o"),
        Encoding(crf=20, preset="fast"),
    ).argv
    text = " ".join(argv)
    assert "-c:v libx264 -preset fast -crf 20 -pix_fmt yuv420p -x264-params me=dia:subme=1" in text
    assert "-c:a libmp3lame -compression_level 7 -b:a 128k" in text
    assert "-c:a aac -aac_coder fast -b:a 128k" in text and "-movflags +faststart -f mp4" in text
    # Each input decodes on one thread (ffmpeg gives every input a thread of its own).
    assert "-threads 1 -reinit_filter 0 -i a" in text


def test_a_mono_microphones_mp3_is_written_as_one_channel_at_half_the_bitrate() -> None:
    base = make_plan()
    plan = replace(base, inputs=(Input("a.flv", True, True, channels=1),))
    argv = build_command(
        "ffmpeg", plan, plan.renders[0], {"a.flv": "a", "/fill.png": "f"}, Path("/o"), Encoding()
    ).argv
    text = " ".join(argv)
    assert "pan=mono|c0=c0[" in graph_of(argv)
    assert "-c:a libmp3lame -compression_level 7 -b:a 64k" in text
    # The mp4 beside it keeps Mixdown's stereo AAC.
    assert "-c:a aac -aac_coder fast -b:a 128k -ar 48000 -ac 2" in text


def test_a_preset_from_the_environment_applies_as_x264_defines_it() -> None:
    from mixdown.settings import Settings

    env = {"MIXDOWN_FFMPEG": "true"}
    assert Settings.from_env(env).encoding.x264_params == "me=dia:subme=1"
    chosen = Settings.from_env({**env, "MIXDOWN_PRESET": "medium"}).encoding
    assert (chosen.preset, chosen.x264_params) == ("medium", "")
    tuned = Settings.from_env({**env, "MIXDOWN_PRESET": "medium", "MIXDOWN_X264_PARAMS": "ref=2"})
    assert tuned.encoding.x264_params == "ref=2"


def test_bad_numeric_settings_are_named() -> None:
    from mixdown.errors import InternalError
    from mixdown.settings import Settings

    env = {"MIXDOWN_FFMPEG": "true"}
    assert Settings.from_env(env).render_lanes == 2
    assert Settings.from_env({**env, "MIXDOWN_RENDER_LANES": "1"}).render_lanes == 1
    for name, value in (("MIXDOWN_RENDER_LANES", "0"), ("MIXDOWN_CRF", "high")):
        with pytest.raises(InternalError, match=name):
            Settings.from_env({**env, name: value})


def lead_plan(seekable: bool) -> Plan:
    clips = (Clip(0, Span(60_000, 65_000), 0),)
    video = VideoPlan(320, 240, "#000000", "", (Placement(0, clips, Rect(0, 0, 320, 240), 0),))
    out = OutputPlan("cam.mp4", "mp4", 0, "a", 0, 5_000, video, AudioPlan((clips,)))
    return Plan(5_000, (), (Input("a.mp4", True, True, seekable),), (Render((out,), 5_000),))


def test_without_a_keyframe_index_a_long_lead_is_decoded_not_seeked() -> None:
    plan = lead_plan(seekable=False)
    argv = build_command(
        "ffmpeg", plan, plan.renders[0], {"a.mp4": "a"}, Path("/o"), Encoding()
    ).argv
    assert "-ss" not in argv
    assert "select='gte(t,60.000)*lt(t,65.000)'" in graph_of(argv)


def test_a_long_lead_is_skipped_by_an_input_seek_and_clip_times_shift_with_it() -> None:
    plan = lead_plan(seekable=True)
    argv = build_command(
        "ffmpeg", plan, plan.renders[0], {"a.mp4": "a"}, Path("/o"), Encoding()
    ).argv
    before = argv[argv.index("-i") - 6 : argv.index("-i")]
    assert before == ("-ss", "58.000", "-threads", "1", "-reinit_filter", "0")
    graph = graph_of(argv)
    assert "select='gte(t,2.000)*lt(t,7.000)'" in graph
    assert "atrim=start=2.000:end=7.000" in graph


def test_a_graph_too_long_for_the_command_line_goes_to_a_script_file() -> None:
    clips = tuple(Clip(0, Span(t, t + 50), t) for t in range(0, 400_000, 100))
    video = VideoPlan(320, 240, "#000000", "", (Placement(0, clips, Rect(0, 0, 320, 240), 0),))
    out = OutputPlan("cam.mp4", "mp4", 0, "a", 0, 400_000, video, AudioPlan((clips,)))
    plan = Plan(400_000, (), (Input("a.mp4", True, True),), (Render((out,), 400_000),))
    cmd = build_command("ffmpeg", plan, plan.renders[0], {"a.mp4": "a"}, Path("/o"), Encoding())
    assert cmd.script is not None and cmd.script[0] == Path("/o/.cam.mp4.graph")
    assert cmd.argv[cmd.argv.index("-/filter_complex") + 1] == "/o/.cam.mp4.graph"
    assert all(len(arg) < 60_000 for arg in cmd.argv)
    assert "concat=n=" in cmd.script[1]


def test_expressions_stay_shallow_however_many_pauses_cut_a_clip() -> None:
    clips = tuple(Clip(0, Span(t, t + 50), t // 2) for t in range(0, 51_200, 100))  # 512 pieces
    video = VideoPlan(320, 240, "#000000", "", (Placement(0, clips, Rect(0, 0, 320, 240), 0),))
    out = OutputPlan("cam.mp4", "mp4", 0, "a", 0, 25_600, video, None)
    plan = Plan(25_600, (), (Input("a.mp4", True, False),), (Render((out,), 25_600),))
    cmd = build_command("ffmpeg", plan, plan.renders[0], {"a.mp4": "a"}, Path("/o"), Encoding())
    text = cmd.script[1] if cmd.script else graph_of(cmd.argv)
    depth = deepest = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        deepest = max(deepest, depth)
    assert deepest <= 3 * 10 + 5  # log2(512) levels of if()/sums, not 512
