"""A plan as work: whole renders as pieces, long encoded mp4s cut into chunks plus a join."""

from __future__ import annotations

import json
from dataclasses import replace

from mixdown.planning.plan import AudioPlan, OutputPlan, Plan, Render
from mixdown.planning.work import WorkGraph, chunk_length, work_graph

from .test_chunking import FPS, clip, mix


def plan_of(*renders: Render) -> Plan:
    return Plan(total_time=max(r.duration for r in renders), omitted=(), inputs=(), renders=renders)


def camera(duration: int) -> Render:
    """A per-stream mp4 and its mp3: two outputs of one render, never cut."""
    sound = AudioPlan(((clip(0, duration, 0),),))
    mp4 = replace(mix(duration, (0, (clip(0, duration, 0),))).outputs[0], name="cam.mp4")
    mp3 = OutputPlan("cam.mp3", "mp3", 4, "cam", 0, duration, None, sound)
    return Render((mp4, mp3), duration)


MIX = mix(10_000, (0, (clip(0, 10_000, 0),)), (1, (clip(0, 10_000, 0),)))


def test_without_a_chunk_length_every_render_is_one_piece() -> None:
    graph = work_graph(plan_of(MIX, camera(10_000)), None, FPS)
    assert [(p.name, p.source) for p in graph.pieces] == [("mix_1_1.mp4", 0), ("cam.mp4", 1)]
    assert graph.joins == ()
    assert graph.whole(0) is not None and graph.whole(0).render == MIX  # type: ignore[union-attr]


def test_a_long_mix_is_cut_into_chunks_of_about_the_length_plus_its_sound() -> None:
    graph = work_graph(plan_of(MIX, camera(10_000)), 3_000, FPS)
    (join,) = graph.joins
    assert join.source == 0 and graph.whole(0) is None
    assert len(join.chunks) == 3 and join.audio == "mix_1_1.audio.mp4"
    spans = [c.span for c in join.chunked.chunks]
    assert spans[0].start == 0 and spans[-1].end == 10_000
    assert all(abs(s.length - 10_000 / 3) < 500 for s in spans)
    chunk_pieces = [graph.piece(name) for name in join.chunks]
    assert all(p.render.outputs[0].audio is None for p in chunk_pieces)
    assert graph.piece("mix_1_1.audio.mp4").render.outputs[0].video is None
    # The camera's two outputs share one render: one piece, not cut.
    assert graph.whole(1) is not None


def test_a_render_shorter_than_two_chunks_stays_whole() -> None:
    graph = work_graph(plan_of(MIX), 6_000, FPS)
    assert graph.joins == () and [p.name for p in graph.pieces] == ["mix_1_1.mp4"]


def test_a_mix_without_sound_joins_its_chunks_alone() -> None:
    silent = mix(9_000, (0, (clip(0, 9_000, 0),)), audio=False)
    (join,) = work_graph(plan_of(silent), 3_000, FPS).joins
    assert join.audio is None and len(join.chunks) == 3


def test_a_work_graph_is_json_and_reads_back_the_same() -> None:
    graph = work_graph(plan_of(MIX, camera(10_000)), 3_000, FPS)
    again = WorkGraph.from_json(json.loads(graph.dumps()))
    assert again == graph


def test_a_cluster_cuts_about_two_chunks_per_live_worker_between_10_and_60_s() -> None:
    assert chunk_length(120_000, 3) == 20_000  # a 2-minute class over three workers
    assert chunk_length(24_000, 3) == 10_000  # never shorter than 10 s
    assert chunk_length(3_600_000, 16) == 60_000  # never longer than a minute
    assert chunk_length(600_000, 0) == 60_000  # no worker heard from yet: as if one
