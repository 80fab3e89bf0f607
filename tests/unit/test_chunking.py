"""Cutting a mix render into chunks: pieces, cuts, and frames the same as a single render."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from mixdown.domain.geometry import Rect
from mixdown.domain.timing import Span
from mixdown.errors import InvalidParameter
from mixdown.planning.chunking import SEEK_GRID_MS, ChunkedRender, chunk_render, cut_points
from mixdown.planning.plan import (
    AudioPlan,
    Clip,
    CopyPlan,
    OutputPlan,
    Placement,
    Render,
    VideoPlan,
)
from mixdown.planning.seam import MARGIN_MS, enabled, grid_ms, slice_ms

from .overlaymodel import drawn

FPS = 15


def mix(duration: int, *placements: tuple[int, tuple[Clip, ...]], audio: bool = True) -> Render:
    """A mix of one tile per placement (input, clips), each in its own rect."""
    tiles = tuple(
        Placement(i, clips, Rect(160 * n, 0, 160, 120), n)
        for n, (i, clips) in enumerate(placements)
    )
    lanes = tuple(clips for _, clips in placements)
    output = OutputPlan(
        name="mix_1_1.mp4",
        format="mp4",
        video_type=3,
        user_id="tic_mixstream_1_1",
        play_time=0,
        duration=duration,
        video=VideoPlan(160 * len(tiles), 120, "#34363B", "", tiles),
        audio=AudioPlan(lanes) if audio else None,
    )
    return Render((output,), duration)


def clip(start: int, end: int, at: int, input: int = 0) -> Clip:
    return Clip(input, Span(start, end), at)


def placements(render: Render) -> tuple[Placement, ...]:
    video = render.outputs[0].video
    assert video is not None
    return video.placements


def test_the_frame_grid_is_where_frame_times_are_whole_ms() -> None:
    assert (grid_ms(15), grid_ms(25), grid_ms(30), grid_ms(24)) == (200, 40, 100, 125)
    # A lookback slice maps inside half a frame, so all of it rounds to one frame.
    for fps in (10, 15, 24, 25, 30):
        assert slice_ms(fps) * fps * 2 < 1000 <= (slice_ms(fps) + 1) * fps * 2


def test_cut_points_are_near_equal_on_the_grid_and_increasing() -> None:
    render = mix(60_000, (0, (clip(0, 60_000, 0),)))
    assert cut_points(render, 2, FPS) == (30_000,)
    cuts = cut_points(render, 7, FPS)
    assert len(cuts) == 6 and all(c % 200 == 0 for c in cuts)
    assert all(abs(c - i * 60_000 / 7) <= 100 for i, c in enumerate(cuts, start=1))
    assert cut_points(mix(300, (0, (clip(0, 300, 0),))), 4, FPS) == (200,)


def test_a_clip_ffmpeg_turns_on_a_frame_late_starts_as_late_in_its_chunk() -> None:
    # At 7400 ms, 111 * (1/15) < 7.4 in doubles: the single render draws the clip from
    # frame 112 on; at 2400 ms in a chunk cut at 5000 the doubles agree (36/15 == 2.4).
    assert not enabled((clip(0, 1000, 7400),), 111, FPS)
    assert enabled((clip(0, 1000, 2400),), 36, FPS)
    frames = [n * 6000 for n in range(400)]  # 15 fps, in 1/90000 s
    clips = (clip(0, 1_000, 7_400, input=1),)
    render = mix(9_000, (0, (clip(0, 9_000, 0),)), (1, clips))
    _, chunk = chunk_render(render, [5_000], FPS).chunks
    late = placements(chunk.render)[1].clips
    assert late[-2:] == (clip(0, 1, 2_401, input=1), clip(1, 1_000, 2_401, input=1))
    whole = drawn(clips, frames, 36_000_000, FPS, 90_000, 135)
    assert whole[111] is None and whole[112] == 6000
    assert drawn(late, frames, 36_000_000, FPS, 90_000, 60) == whole[75:]


def test_a_cut_on_a_clip_that_ffmpeg_turns_on_a_frame_late_is_refused_and_avoided() -> None:
    render = mix(14_800, (0, (clip(0, 14_800, 0),)), (1, (clip(0, 1000, 7400, input=1),)))
    with pytest.raises(InvalidParameter, match="7400 ms"):
        chunk_render(render, [7400], FPS)  # the chunk would draw it at its frame 0
    (cut,) = cut_points(render, 2, FPS)
    assert cut != 7400 and abs(cut - 7400) <= 1000
    chunk_render(render, [cut], FPS)


def test_cuts_off_the_grid_or_out_of_order_are_rejected() -> None:
    render = mix(10_000, (0, (clip(0, 10_000, 0),)))
    with pytest.raises(InvalidParameter, match="grid"):
        chunk_render(render, [5_100], FPS)
    with pytest.raises(InvalidParameter, match="increase"):
        chunk_render(render, [6_000, 4_000], FPS)
    with pytest.raises(InvalidParameter, match="increase"):
        chunk_render(render, [10_000], FPS)


def test_only_one_encoded_mp4_video_can_be_chunked() -> None:
    render = mix(10_000, (0, (clip(0, 10_000, 0),)))
    out = render.outputs[0]
    for bad in (
        Render((replace(out, video=None),), 10_000),
        Render((replace(out, copy=CopyPlan(0, True, True)),), 10_000),
        Render((replace(out, splice=True),), 10_000),
        Render((out, replace(out, name="b.mp4")), 10_000),
    ):
        with pytest.raises(InvalidParameter):
            chunk_render(bad, [5_000], FPS)


def test_chunks_are_video_only_and_the_audio_is_one_render_of_the_whole_timeline() -> None:
    render = mix(10_000, (0, (clip(0, 10_000, 0),)))
    chunked = chunk_render(render, [4_000, 8_000], FPS)
    assert [c.span for c in chunked.chunks] == [
        Span(0, 4_000),
        Span(4_000, 8_000),
        Span(8_000, 10_000),
    ]
    for chunk in chunked.chunks:
        (out,) = chunk.render.outputs
        assert out.audio is None and out.video is not None
        assert chunk.render.duration == out.duration == chunk.span.length
        assert out.play_time == chunk.span.start
    assert chunked.audio is not None
    (sound,) = chunked.audio.outputs
    assert sound.video is None and sound.audio == render.outputs[0].audio
    assert chunked.audio.duration == 10_000 == chunked.duration
    names = [c.render.outputs[0].name for c in chunked.chunks] + [sound.name]
    assert len(set(names)) == 4 and chunked.output == render.outputs[0]
    assert chunk_render(mix(10_000, (0, (clip(0, 10_000, 0),)), audio=False), [], FPS).audio is None


def test_a_clip_across_a_cut_goes_on_at_its_own_shift_after_half_frame_lookback_slices() -> None:
    render = mix(10_000, (0, (clip(500, 9_500, 1_000),)))  # shift +500
    first, second = chunk_render(render, [4_000], FPS).chunks
    (before,) = placements(first.render)
    # Up to the cut and a second of media beyond it, at the true place (never drawn).
    assert before.clips == (clip(500, 3_500 + MARGIN_MS, 1_000),)
    (after,) = placements(second.render)
    seek, *back, body = after.clips
    assert seek == clip(2_400, 2_400, 0)  # the input seek lands on a whole 200 ms
    assert body == clip(3_500, 9_500, 0)  # src 3500 is output 4000: the same shift
    assert all(c.at == 0 and 0 < c.src.length <= slice_ms(FPS) for c in back)
    assert [c.src.start for c in back[1:]] == [c.src.end for c in back[:-1]]
    assert (back[0].src.start, back[-1].src.end) == (3_500 - MARGIN_MS, 3_500)


def test_a_clip_inside_a_chunk_keeps_its_place_on_the_chunks_timeline() -> None:
    render = mix(12_000, (0, (clip(0, 12_000, 0),)), (1, (clip(100, 2_100, 6_250, input=1),)))
    _, chunk = chunk_render(render, [5_000], FPS).chunks
    *_, moved = placements(chunk.render)[1].clips
    assert moved == clip(100, 2_100, 1_250, input=1)


def test_a_placement_absent_from_a_chunk_is_left_out_of_it() -> None:
    render = mix(12_000, (0, (clip(0, 12_000, 0),)), (1, (clip(0, 2_000, 1_000, input=1),)))
    _, chunk = chunk_render(render, [6_000], FPS).chunks
    assert [p.input for p in placements(chunk.render)] == [0]


def test_the_next_clip_after_a_chunk_keeps_the_tile_alive_past_its_end() -> None:
    # Ends at 3000 inside the first chunk, comes back at 7000: the single render's tile
    # lives on between, so the chunk's must too (else its last frame at 3000 is lost).
    clips = (clip(0, 2_000, 1_000), clip(5_000, 7_000, 7_000))
    first, _ = chunk_render(mix(10_000, (0, clips)), [4_000], FPS).chunks
    (tile,) = placements(first.render)
    assert tile.clips == (clip(0, 2_000, 1_000), clip(5_000, 5_000 + MARGIN_MS, 7_000))


def test_a_clip_ending_at_the_cut_leaves_an_anchor_that_keeps_its_shift() -> None:
    render = mix(8_000, (0, (clip(0, 8_000, 0),)), (1, (clip(34, 2_434, 0, input=1),)))
    _, chunk = chunk_render(render, [2_400], FPS).chunks
    tile = placements(chunk.render)[1]
    assert tile.clips[-1] == clip(2_434, 2_434, 0, input=1)
    assert all(c.at == 0 for c in tile.clips)


def test_a_tile_back_after_a_gap_across_the_cut_shows_its_old_frame_until_a_new_one() -> None:
    frames = [n * 18_000 for n in range(60)]  # 5 fps, in 1/90000 s
    clips = (clip(0, 3_000, 0), clip(3_010, 6_000, 5_300))  # next frame: 3200, at 5490
    render = mix(8_400, (0, clips))
    whole = drawn(clips, frames, 10**9, FPS, 90_000, 126)
    assert whole[79] is None and whole[80] == whole[81] == 2_800 * 90 and whole[82] == 3_200 * 90
    _, chunk = chunk_render(render, [4_000], FPS).chunks
    (tile,) = placements(chunk.render)
    carried = [c for c in tile.clips if c.src.end <= 3_000 and c.src.length]
    # Placed 1 ms or more past a frame time, less than half a frame past it.
    assert carried and all(FPS <= c.at * FPS % 1000 < 500 for c in carried)
    assert drawn(tile.clips, frames, 10**9, FPS, 90_000, 66) == whole[60:]


def test_each_inputs_first_piece_after_the_first_cut_starts_on_the_seek_grid() -> None:
    render = mix(40_000, (0, (clip(1_234, 39_234, 0),)), (0, (clip(15_013, 20_013, 15_000),)))
    first, second = chunk_render(render, [20_000], FPS).chunks
    # The first chunk starts where the render does, and seeks as it does.
    assert min(c.src.start for p in placements(first.render) for c in p.clips) == 1_234
    pieces = [(p, c) for p in placements(second.render) for c in p.clips]
    assert min(c.src.start for _, c in pieces) % SEEK_GRID_MS == 0
    for p, c in pieces:
        if c.src.length == 0:
            assert c.at == min(x.at for x in p.clips)  # adds no enabled frame, no lead


def test_a_chunked_render_round_trips_through_json() -> None:
    render = mix(9_000, (0, (clip(0, 9_000, 0),)), (1, (clip(0, 3_000, 2_000, input=1),)))
    chunked = chunk_render(render, cut_points(render, 3, FPS), FPS)
    again = ChunkedRender.from_json(json.loads(chunked.dumps()))
    assert again == chunked
    with pytest.raises(ValueError, match="version"):
        ChunkedRender.from_json({**chunked.to_json(), "version": 99})


# --- frames: every chunk draws what the single render draws, by the ffmpeg model -------


def _source(rng: random.Random, tb: int, length_ms: int) -> tuple[list[int], int]:
    """Frame timestamps (ticks) of a source: its own rate, jitter, dropped frames."""
    rate = rng.choice([4, 7, 10, 12.5, 15, 24, 25, 30])
    offset = rng.randrange(0, 80)
    jitter = rng.choice([0, 0, 1, 3])
    frames, n = [], 0
    while (t := offset + n * 1000 / rate) < length_ms:
        n += 1
        if rng.random() < 0.08:
            continue  # a lost frame
        ms = t + rng.uniform(-jitter, jitter)
        frames.append(max(0, round(ms * tb / 1000)))
    return sorted(set(frames)), round(length_ms * tb / 1000)


def _clips(rng: random.Random, duration: int, source_ms: int) -> tuple[Clip, ...]:
    """1-3 clips in output order: gaps, pause-like jumps in the source, grid edges."""
    snap = rng.random() < 0.5
    at = rng.randrange(0, duration // 3)
    if rng.random() < 0.3:
        at = rng.choice([7_400, 13_800, 14_800, 15_800])  # ffmpeg skips a frame there
    src = rng.randrange(0, 1_500)
    out = []
    for _ in range(rng.randint(1, 3)):
        length = rng.randrange(300, duration)
        if snap:
            at, length = at // 200 * 200, max(200, length // 200 * 200)
        end = min(at + length, duration)
        if end <= at or src + end - at > source_ms:
            break
        out.append(Clip(0, Span(src, src + end - at), at))
        src += end - at + rng.choice([0, 0, rng.randrange(1, 3_000)])  # a pause skips media
        at = end + rng.choice([0, rng.randrange(1, 2_000)])  # adjacent, or a gap
    return tuple(out) or (Clip(0, Span(0, 200), 0),)


def _same_frames(rng: random.Random, tb: int) -> int:
    """A random tile chunked at random cuts; returns how many frames were compared."""
    duration = rng.randrange(3_000, 20_000)
    frames, file_end = _source(rng, tb, duration + 6_000)
    clips = _clips(rng, duration, duration + 6_000)
    render = mix(duration, (0, clips))
    try:
        cuts = cut_points(render, rng.randint(2, 5), FPS)
    except InvalidParameter:
        return 0
    count = -(-duration * FPS // 1000)
    whole = drawn(clips, frames, file_end, FPS, tb, count)
    joined: list[int | None] = []
    for chunk in chunk_render(render, cuts, FPS).chunks:
        mine = placements(chunk.render)
        n = -(-chunk.span.length * FPS // 1000)
        joined += drawn(mine[0].clips if mine else (), frames, file_end, FPS, tb, n)
    assert joined == whole, f"clips {clips} cuts {cuts}"
    return count


@pytest.mark.parametrize("tb", [90_000, 1000])
@pytest.mark.parametrize("seed", range(12))
def test_chunks_draw_the_single_renders_frame_at_every_output_frame(seed: int, tb: int) -> None:
    rng = random.Random(seed)
    compared = sum(_same_frames(rng, tb) for _ in range(25))
    assert compared > 1_000


FLV_FRAMES = [round(n * 1000 / 15) for n in range(150)]  # 15 fps in a 1 ms time base


@pytest.mark.parametrize(
    "at",
    [30, 150],  # lead 0; lead 2: 2/15 s is not a whole ms, but is 12000 ticks
    ids=["tile_starts_early_in_a_grid_step", "tile_starts_later_in_a_grid_step"],
)
def test_chunks_match_a_millisecond_source(at: int) -> None:
    clips = (clip(50, 6_000, at),)
    render = mix(6_000, (0, clips))
    whole = drawn(clips, FLV_FRAMES, 10_000, FPS, 1000, 90)
    joined: list[int | None] = []
    for chunk in chunk_render(render, [1_400, 3_800], FPS).chunks:
        n = chunk.span.length * FPS // 1000
        joined += drawn(placements(chunk.render)[0].clips, FLV_FRAMES, 10_000, FPS, 1000, n)
    assert joined == whole
