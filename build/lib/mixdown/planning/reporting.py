"""The generation report from facts: the plan, the probes, ffmpeg's log, the finished files.

Pure: the renderer hands in what it measured and what ffmpeg logged; nothing is guessed
(a decoder message that does not say which file it came from names every candidate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mixdown.domain.media import HEADER_SLACK_MS, MediaInfo
from mixdown.domain.recording import Recording, VideoType
from mixdown.domain.report import (
    AUDIO_VIDEO_OFFSET,
    DECODE_ERRORS,
    DURATION_MISMATCH,
    RESOLUTION_CHANGE,
    SOURCE_TRUNCATED,
    GenerationReport,
    Measured,
    Notice,
    OutputReport,
    Range,
    SourceUse,
)
from mixdown.domain.timing import Span
from mixdown.planning.plan import Clip, OutputPlan, Plan

#: A finished file may run past its plan by one frame (15 fps) and one AAC packet; more
#: than this is worth a warning.
DURATION_SLACK_MS = 100
#: DESIGN §2: audio and video within one frame of each other (15 fps).
OFFSET_SLACK_MS = 67


@dataclass(frozen=True)
class DecoderMessages:
    """ffmpeg's complaints while decoding one render's inputs."""

    #: Plan input index -> messages that name it.
    by_input: Mapping[int, int] = field(default_factory=dict)
    #: Messages from a decoder that names no input: (codec, candidate inputs, count).
    unattributed: tuple[tuple[str, tuple[int, ...], int], ...] = ()

    def plus(self, other: DecoderMessages) -> DecoderMessages:
        """The messages of two runs (the chunks of one output)."""
        counts = dict(self.by_input)
        for index, count in other.by_input.items():
            counts[index] = counts.get(index, 0) + count
        return DecoderMessages(counts, self.unattributed + other.unattributed)


@dataclass(frozen=True)
class OutputFacts:
    method: str
    measured: Measured
    decoding: DecoderMessages = DecoderMessages()


def build_report(
    plan: Plan,
    recording: Recording,
    probes: Mapping[str, MediaInfo],
    facts: Mapping[str, OutputFacts],
) -> GenerationReport:
    """One entry per finished output, in plan order; ``facts`` is keyed by output name."""
    streams = {
        seg.url: stream.stream_id
        for stream in recording.streams
        for seg in (*stream.segments, *(stream.small_segments or ()))
    }
    outputs = [
        _output(plan, out, probes, streams, facts[out.name])
        for render in plan.renders
        for out in render.outputs
        if out.name in facts
    ]
    return GenerationReport(tuple(outputs))


def _output(
    plan: Plan,
    out: OutputPlan,
    probes: Mapping[str, MediaInfo],
    streams: Mapping[str, str],
    facts: OutputFacts,
) -> OutputReport:
    uses = _sources(plan, out, probes, streams)
    warnings: list[Notice] = list(out.notices)
    drawn = {u.url for u in uses if u.track == "video"}
    for url in dict.fromkeys(u.url for u in uses):
        warnings += _source_warnings(out, url, probes[url], streams.get(url, ""), url in drawn)
    warnings += _decoder_warnings(plan, facts.decoding, facts.method, streams)
    warnings += _measured_warnings(out, facts.measured)
    return OutputReport(
        name=out.name,
        video_type=out.video_type,
        user_id=out.user_id,
        method=facts.method,
        planned_ms=out.duration,
        measured=facts.measured,
        sources=uses,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _sources(
    plan: Plan, out: OutputPlan, probes: Mapping[str, MediaInfo], streams: Mapping[str, str]
) -> tuple[SourceUse, ...]:
    clips: dict[tuple[int, str], list[Clip]] = {}
    if out.copy is not None:
        info = probes[plan.inputs[out.copy.input].url]
        tracks = [("video", info.video, out.copy.video), ("audio", info.audio, out.copy.audio)]
        for track, t, wanted in tracks:
            if t is not None and wanted:
                whole = Clip(
                    out.copy.input, Span(t.start_ms, t.start_ms + t.duration_ms), t.start_ms
                )
                clips.setdefault((out.copy.input, track), []).append(whole)
    for p in out.video.placements if out.video else ():
        clips.setdefault((p.input, "video"), []).extend(p.clips)
    for lane in out.audio.lanes if out.audio else ():
        for c in lane:
            clips.setdefault((c.input, "audio"), []).append(c)
    uses = []
    for (index, track), found in clips.items():
        url = plan.inputs[index].url
        ranges = tuple(Range(c.src.start, c.src.end, c.at) for c in sorted(found, key=_at))
        uses.append(SourceUse(url, streams.get(url, ""), track, ranges))
    return tuple(uses)


def _at(c: Clip) -> int:
    return c.at


def _source_warnings(
    out: OutputPlan, url: str, info: MediaInfo, stream_id: str, drawn: bool
) -> list[Notice]:
    """``drawn``: the output shows this source's picture."""
    found: list[Notice] = []
    if not info.complete:
        readable = _s(info.duration_ms)
        if info.header_ms > info.duration_ms + HEADER_SLACK_MS:
            what = f"its header claims {_s(info.header_ms)} but only {readable} can be read"
        else:  # the header is estimated from the packets: only the torn ones tell
            what = f"{info.damaged_packets} packet(s) are torn; {readable} can be read"
        found.append(
            Notice(
                SOURCE_TRUNCATED,
                f"{url}: truncated: {what}; the readable part is used",
                url,
                stream_id,
            )
        )
    v = info.video
    if v is not None and v.size_changes and drawn and out.video is not None:
        runs = ", ".join(f"{w}x{h} from {_s(t)}" for t, w, h in v.sizes)
        where = (
            "every frame is fitted into its slot"
            if out.video_type == VideoType.MIX
            else f"every frame is fitted into the output's {out.video.width}x{out.video.height}"
        )
        found.append(
            Notice(
                RESOLUTION_CHANGE,
                f"{url}: the picture size changes ({runs}); {where}",
                url,
                stream_id,
            )
        )
    return found


def _decoder_warnings(
    plan: Plan, decoding: DecoderMessages, method: str, streams: Mapping[str, str]
) -> list[Notice]:
    fate = (
        "the damaged frames or samples were skipped or concealed"
        if method == "encode"
        else "the damaged data was copied as it is"
    )
    found = []
    for index, n in sorted(decoding.by_input.items()):
        url = plan.inputs[index].url
        found.append(
            Notice(
                DECODE_ERRORS,
                f"{url}: ffmpeg reported {n} decoding error(s); {fate}",
                url,
                streams.get(url, ""),
            )
        )
    for codec, candidates, n in decoding.unattributed:
        urls = [plan.inputs[i].url for i in candidates]
        one = urls[0] if len(urls) == 1 else ""
        which = one or f"one of {', '.join(urls)}" if urls else "an input"
        found.append(
            Notice(
                DECODE_ERRORS,
                f"{which}: the {codec} decoder reported {n} error(s); {fate}",
                one,
                streams.get(one, ""),
            )
        )
    return found


def _measured_warnings(out: OutputPlan, measured: Measured) -> list[Notice]:
    found = []
    if abs(measured.duration_ms - out.duration) > DURATION_SLACK_MS:
        found.append(
            Notice(
                DURATION_MISMATCH,
                f"{out.name}: lasts {_s(measured.duration_ms)}, planned {_s(out.duration)}",
            )
        )
    offset = measured.av_offset_ms
    if offset is not None and abs(offset) > OFFSET_SLACK_MS:
        found.append(
            Notice(
                AUDIO_VIDEO_OFFSET,
                f"{out.name}: audio starts {offset} ms after the video (more than one frame)",
            )
        )
    return found


def _s(ms: int) -> str:
    return f"{ms / 1000:.1f} s"
