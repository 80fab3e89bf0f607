"""Recording + parameters + probe results -> Plan. Pure: no I/O, no clocks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from mixdown.domain.geometry import Rect, even
from mixdown.domain.media import AudioTrack, MediaInfo, VideoTrack
from mixdown.domain.parameters import GenerationParams, Whiteboard
from mixdown.domain.recording import Recording, Segment, Stream, StreamKind, VideoType
from mixdown.domain.timing import Span, merge
from mixdown.errors import InvalidParameter, MediaError, RecordParameterError
from mixdown.planning.control import select
from mixdown.planning.layout import layout_for
from mixdown.planning.plan import (
    AudioPlan,
    Clip,
    CopyPlan,
    Input,
    OutputPlan,
    Placement,
    Plan,
    Render,
    VideoPlan,
)
from mixdown.planning.seating import seat, seating_notices
from mixdown.planning.timeline import Mapped, Timeline
from mixdown.planning.tracks import owned_spans, pairs, parts
from mixdown.settings import Settings

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: Containers whose seeks land on keyframes (MPEG-TS seeks land on any packet).
_INDEXED = {"mov", "mp4", "matroska", "webm", "flv"}


@dataclass(frozen=True)
class Piece:
    """One input's continuous media on the playback timeline: at most one clip per track.

    A per-stream video whose picture and sound come from different files has a piece per
    file, so it is never remuxed as one file (``_copy_plan`` wants a single piece)."""

    input: int
    at: int
    length: int
    video: Clip | None
    audio: Clip | None


@dataclass(frozen=True)
class StreamMedia:
    stream: Stream
    pieces: tuple[Piece, ...]
    size: tuple[int, int] | None  # display size of its main video, None if it has none

    @property
    def video_clips(self) -> list[Clip]:
        return sorted((p.video for p in self.pieces if p.video is not None), key=lambda c: c.at)

    @property
    def audio_clips(self) -> list[Clip]:
        return sorted((p.audio for p in self.pieces if p.audio is not None), key=lambda c: c.at)

    @property
    def parts(self) -> tuple[tuple[Piece, ...], ...]:
        """Its continuous pieces of media (``tracks``), one per-stream video each without
        Concat. A part's picture may come from one file and its sound from others; its
        picture's piece comes first, as that segment decides the video's size."""
        return tuple(
            tuple(sorted((_piece(v, a) for v, a in pairs(video, audio)), key=_picture_first))
            for video, audio in parts(self.video_clips, self.audio_clips)
        )


class _Inputs:
    """Interns segment urls as plan inputs."""

    def __init__(self, probes: Mapping[str, MediaInfo]) -> None:
        self.probes = probes
        self.items: list[Input] = []
        self.index: dict[str, int] = {}

    def add(self, url: str) -> int:
        if url not in self.index:
            info = self.probes[url]
            self.index[url] = len(self.items)
            seekable = any(name in _INDEXED for name in info.container.split(","))
            channels = info.audio.channels if info.audio else 0
            video = info.video
            resized = video is not None and video.size_changes
            self.items.append(
                Input(url, video is not None, info.audio is not None, seekable, channels, resized)
            )
        return self.index[url]


def build_plan(
    recording: Recording,
    params: GenerationParams,
    probes: Mapping[str, MediaInfo],
    filler_image: str = "",
) -> Plan:
    """``params`` are the task's; each object missing there comes from the recording."""
    p = params.over(recording.defaults)
    _check_probes(recording, probes)
    timeline = Timeline(recording.start_ms, _stop(recording, probes), recording.pauses)
    inputs = _Inputs(probes)
    found = [_stream_media(s, p, timeline, inputs) for s in recording.streams]
    media = [m for m in found if m is not None and m.pieces]
    renders: list[Render] = []
    if p.mix_stream is not None and p.mix_stream.enabled:
        renders.append(_mix_render(recording, p, media, timeline.total_ms))
    concat = p.concat is not None and p.concat.enabled
    names: set[str] = set()
    for m in media:
        groups = [m.pieces] if concat else m.parts
        for group in groups:
            render = _stream_render(
                m if concat else _own_size(m, group[0], inputs),
                group,
                p.whiteboard or Whiteboard(),
                filler_image if concat else "",
                recording.audio_file_needed,
                names,
            )
            renders.extend(_split_copies(render, group, inputs))
    return Plan(
        total_time=timeline.total_ms,
        omitted=timeline.omitted(),
        inputs=tuple(inputs.items),
        renders=tuple(r for r in renders if r.outputs),
    )


def plan_generation(
    recording: Recording,
    params: GenerationParams,
    probes: Mapping[str, MediaInfo],
    settings: Settings,
    filler_image: str = "",
) -> Plan:
    """``build_plan`` within the duration cap: what a generation renders, and what
    CreateVideoGenerationTask checks before it queues the task."""
    plan = build_plan(recording, params, probes, filler_image)
    if plan.total_time > settings.max_duration_ms:
        raise InvalidParameter(f"recording is longer than the {settings.max_duration_ms} ms cap")
    return plan


def _check_probes(recording: Recording, probes: Mapping[str, MediaInfo]) -> None:
    for seg in recording.all_segments():
        if seg.url not in probes:
            raise MediaError(f"{seg.url}: not probed")


def recording_stop(recording: Recording, probes: Mapping[str, MediaInfo]) -> int | None:
    """Where the recording ends: its RecordStopTimeMs, else the end of its last media (main
    or small segments), None when no media ends after the start. The one rule for the
    generation's timeline and for DescribeOnlineRecord's TotalTime."""
    if recording.stop_ms is not None:
        return recording.stop_ms
    ends = [seg.start_ms + probes[seg.url].duration_ms for seg in recording.all_segments()]
    stop = max(ends, default=recording.start_ms)
    return stop if stop > recording.start_ms else None


def _stop(recording: Recording, probes: Mapping[str, MediaInfo]) -> int:
    stop = recording_stop(recording, probes)
    if stop is None:
        raise RecordParameterError("RecordStopTimeMs: absent and no media ends after the start")
    return stop


def _stream_media(
    stream: Stream, p: GenerationParams, timeline: Timeline, inputs: _Inputs
) -> StreamMedia | None:
    choice = select(stream.stream_id, p.record_control)
    if not choice.record:
        return None
    segments = stream.segments
    if choice.small and stream.small_segments:
        segments = stream.small_segments
    infos = {s.url: inputs.probes[s.url] for s in segments}
    video, audio = _owned_spans(segments, infos, choice.audio)
    video_clips: list[Clip] = []
    audio_clips: list[Clip] = []
    for seg, video_owned, audio_owned in zip(segments, video, audio, strict=True):
        shown = [m for wall in video_owned for m in timeline.map(wall)]
        heard = [m for wall in audio_owned for m in timeline.map(wall)]
        if shown or heard:
            index = inputs.add(seg.url)
            video_clips += [_clip(index, seg, m) for m in shown]
            audio_clips += [_clip(index, seg, m) for m in heard]
    pieces = sorted((_piece(v, a) for v, a in pairs(video_clips, audio_clips)), key=lambda x: x.at)
    return StreamMedia(stream, tuple(pieces), _main_size(segments, infos))


def _owned_spans(
    segments: tuple[Segment, ...], infos: Mapping[str, MediaInfo], with_audio: bool
) -> tuple[list[list[Span]], list[list[Span]]]:
    """Per segment, the wall-clock spans whose video and whose audio it supplies: overlaps
    are resolved per track, on each track's own extent (DESIGN §1, ``tracks``)."""

    def extent(seg: Segment, track: VideoTrack | AudioTrack | None) -> tuple[int, Span | None]:
        if track is None:
            return seg.start_ms, None
        start = seg.start_ms + track.start_ms
        return seg.start_ms, Span(start, start + track.duration_ms)

    video = owned_spans([extent(s, infos[s.url].video) for s in segments])
    heard = [infos[s.url].audio if with_audio else None for s in segments]
    audio = owned_spans([extent(s, a) for s, a in zip(segments, heard, strict=True)])
    return video, audio


def _clip(index: int, seg: Segment, mapped: Mapped) -> Clip:
    return Clip(index, mapped.wall.shift(-seg.start_ms), mapped.at)


def _piece(video: Clip | None, audio: Clip | None) -> Piece:
    clips = [c for c in (video, audio) if c is not None]
    at = min(c.at for c in clips)
    return Piece(clips[0].input, at, max(c.end for c in clips) - at, video, audio)


def _picture_first(piece: Piece) -> bool:
    """Sort key: a part's piece with a picture before its pieces of sound alone."""
    return piece.video is None


def _own_size(m: StreamMedia, piece: Piece, inputs: _Inputs) -> StreamMedia:
    """The stream as seen by one piece: its size is the one that covers most of the
    piece's own picture (its segment's, or the longest of the sizes that segment changes
    between)."""
    video = inputs.probes[inputs.items[piece.input].url].video
    shown = piece.video.src if piece.video is not None else None
    return replace(m, size=_longest(_size_runs(video, shown)) or m.size)


def _main_size(
    segments: tuple[Segment, ...], infos: Mapping[str, MediaInfo]
) -> tuple[int, int] | None:
    """The display size that covers the most time; per-stream videos use it. A file whose
    size changes counts each size for its own time: a WebRTC camera starts small and ramps
    up, so its first size is often the one it shows least."""
    return _longest([run for seg in segments for run in _size_runs(infos[seg.url].video)])


def _size_runs(
    video: VideoTrack | None, within: Span | None = None
) -> list[tuple[tuple[int, int], int]]:
    """Each run of a track's display size (made even) with the ms it lasts; with
    ``within`` (the file's own timeline), only the runs inside it, for their time there."""
    if video is None:
        return []
    runs = video.sizes or ((video.start_ms, video.width, video.height),)
    ends = [at for at, _, _ in runs[1:]] + [video.start_ms + video.duration_ms]
    out: list[tuple[tuple[int, int], int]] = []
    for (at, width, height), end in zip(runs, ends, strict=True):
        part = Span(at, end) if within is None else Span(at, end).intersect(within)
        if part is not None:
            out.append(((even(width), even(height)), part.length))
    return out


def _longest(runs: list[tuple[tuple[int, int], int]]) -> tuple[int, int] | None:
    """The size with the most time in ``runs``; ties go to the one met first."""
    weight: dict[tuple[int, int], int] = {}
    for size, ms in runs:
        weight[size] = weight.get(size, 0) + ms
    return max(weight, key=lambda k: weight[k]) if weight else None


def _mix_render(
    recording: Recording, p: GenerationParams, media: list[StreamMedia], total: int
) -> Render:
    mix = p.mix_stream
    assert mix is not None
    layout = layout_for(mix)
    presence = {
        m.stream.stream_id: merge([Span(c.at, c.end) for c in m.video_clips])
        for m in media
        if m.video_clips
    }
    by_id = {m.stream.stream_id: m for m in media}
    drawn: list[tuple[int, int, Placement]] = []
    seats = seat(layout.slots, presence)
    heard = {m.stream.stream_id for m in media if m.audio_clips}
    for s in seats:
        slot = layout.slots[s.slot]
        for input_index, clips in _clips_within(by_id[s.stream_id].video_clips, s.span):
            placement = Placement(
                input_index, clips, slot.rect, slot.z, slot.fill_mode, slot.background
            )
            drawn.append((slot.z, s.slot, placement))
    # Draw order: ZOrder, then slot list order; sorted() is stable within a slot.
    placements = tuple(pl for _, _, pl in sorted(drawn, key=lambda d: (d[0], d[1])))
    lanes = () if mix.disable_audio else tuple(tuple(m.audio_clips) for m in media if m.audio_clips)
    output = OutputPlan(
        name=f"mix_{recording.room_id}_{layout.suffix}.mp4",
        format="mp4",
        video_type=VideoType.MIX,
        user_id=f"tic_mixstream_{recording.room_id}_{layout.suffix}",
        play_time=0,
        duration=total,
        video=VideoPlan(layout.width, layout.height, layout.background, "", placements),
        audio=AudioPlan(lanes) if lanes else None,
        notices=seating_notices(layout, presence, seats, heard),
    )
    return Render((output,), total)


def _clips_within(clips: list[Clip], span: Span) -> list[tuple[int, tuple[Clip, ...]]]:
    """The parts of ``clips`` inside the playback ``span``, grouped by input in order."""
    groups: dict[int, list[Clip]] = {}
    for c in clips:
        part = Span(c.at, c.end).intersect(span)
        if part is None:
            continue
        offset = part.start - c.at
        cut = Clip(
            c.input, Span(c.src.start + offset, c.src.start + offset + part.length), part.start
        )
        groups.setdefault(c.input, []).append(cut)
    return [(i, tuple(g)) for i, g in groups.items()]


def _stream_render(
    m: StreamMedia,
    pieces: tuple[Piece, ...],
    board: Whiteboard,
    filler_image: str,
    audio_file: bool,
    names: set[str],
) -> Render:
    start = min(p.at for p in pieces)
    end = max(p.at + p.length for p in pieces)
    video_clips = [_shift(p.video, -start) for p in pieces if p.video is not None]
    # A lane in time order: a part's pieces put its picture's first (``StreamMedia.parts``).
    heard = sorted((p.audio for p in pieces if p.audio is not None), key=lambda c: c.at)
    audio_clips = [_shift(c, -start) for c in heard]
    stream = m.stream
    kind = stream.kind
    size = (even(board.width), even(board.height)) if kind is StreamKind.WHITEBOARD else m.size
    video = None
    if video_clips and size is not None:
        width, height = size
        full = Rect(0, 0, width, height)
        placements = tuple(
            Placement(i, clips, full, 0) for i, clips in _group_by_input(video_clips)
        )
        video = VideoPlan(width, height, "#000000", filler_image, placements)
    audio = AudioPlan((tuple(audio_clips),)) if audio_clips else None
    label = "whiteboard" if kind is StreamKind.WHITEBOARD else f"{kind.value}_{stream.stream_id}"
    if video is None and audio is None:
        return Render((), end - start)
    main = OutputPlan(
        name=_unique(f"{label}_{start}.mp4", names),
        format="mp4",
        video_type=kind.video_type,
        user_id=stream.user_id,
        play_time=start,
        duration=end - start,
        video=video,
        audio=audio,
    )
    outputs = [main]
    if audio_file and audio is not None:
        # The same sound on the same span, as its own file.
        name = _unique(f"audio_{label}_{start}.mp3", names)
        outputs.append(
            replace(main, name=name, format="mp3", video_type=VideoType.AUDIO, video=None)
        )
    return Render(tuple(outputs), end - start)


def _shift(c: Clip, by: int) -> Clip:
    return Clip(c.input, c.src, c.at + by)


def _group_by_input(clips: list[Clip]) -> list[tuple[int, tuple[Clip, ...]]]:
    groups: dict[int, list[Clip]] = {}
    for c in clips:
        groups.setdefault(c.input, []).append(c)
    return [(i, tuple(g)) for i, g in groups.items()]


def _unique(name: str, names: set[str]) -> str:
    stem, dot, ext = _UNSAFE.sub("_", name).rpartition(".")
    candidate, n = f"{stem}.{ext}", 1
    while candidate in names:
        n += 1
        candidate = f"{stem}_{n}{dot}{ext}"
    names.add(candidate)
    return candidate


_COPY_VIDEO = {"h264"}
_COPY_PIX = {"yuv420p", "yuvj420p"}
_COPY_AUDIO = {"aac"}


def _split_copies(render: Render, pieces: tuple[Piece, ...], inputs: _Inputs) -> list[Render]:
    """Give an mp4 output that needs no full encode a render of its own.

    One whole, mp4-ready segment is remuxed; clips of H.264 segments whose frames can be
    copied are spliced. Either way the mp3 no longer shares the video's decode.
    """
    if not render.outputs:
        return [render]
    copy = _copy_plan(render.outputs[0], pieces, inputs)
    if copy is not None:
        first = replace(render.outputs[0], copy=copy)
    elif _spliceable(render.outputs[0], inputs):
        first = replace(render.outputs[0], splice=True)
    else:
        return [render]
    rest = render.outputs[1:]
    out = [Render((first,), render.duration)]
    if rest:
        out.append(Render(rest, render.duration))
    return out


#: Containers whose H.264 samples are length-prefixed, as an mp4 track carries them.
_SPLICE_CONTAINERS = {"mov", "mp4", "flv", "matroska"}


def _spliceable(output: OutputPlan, inputs: _Inputs) -> bool:
    """Whether every source could be copied into this output as it is (checked again,
    byte for byte, when rendering)."""
    if output.format != "mp4" or output.video is None:
        return False
    video_inputs = {p.input for p in output.video.placements}
    for index in video_inputs:
        info = inputs.probes[inputs.items[index].url]
        v = info.video
        if v is None or not info.complete or v.codec not in _COPY_VIDEO or v.rotation:
            return False
        if v.size_changes:
            return False  # copied GOPs would keep sizes other than the output's
        if v.pix_fmt != "yuv420p" or (v.width, v.height) != (
            output.video.width,
            output.video.height,
        ):
            return False
        if not _SPLICE_CONTAINERS.intersection(info.container.split(",")):
            return False
    lanes = output.audio.lanes if output.audio else ()
    shapes = set()
    for clip in (c for lane in lanes for c in lane):
        a = inputs.probes[inputs.items[clip.input].url].audio
        if a is None or a.codec not in _COPY_AUDIO:
            return False
        shapes.add((a.sample_rate, a.channels))
    return len(shapes) <= 1


def _copy_plan(output: OutputPlan, pieces: tuple[Piece, ...], inputs: _Inputs) -> CopyPlan | None:
    if output.format != "mp4" or len(pieces) != 1:
        return None
    piece = pieces[0]
    info = inputs.probes[inputs.items[piece.input].url]
    if not info.complete:
        return None  # a torn last packet would be copied as it is
    v, a = info.video, info.audio
    whole_video = (
        v is not None
        and piece.video is not None
        and piece.video.src == Span(v.start_ms, v.start_ms + v.duration_ms)
    )
    if not whole_video or v is None or output.video is None:
        return None
    if v.codec not in _COPY_VIDEO or v.pix_fmt not in _COPY_PIX or v.rotation:
        return None
    if v.size_changes:
        return None  # its header claims one size for frames of several
    if (v.width, v.height) != (output.video.width, output.video.height):
        return None
    if piece.audio is not None:
        if a is None or a.codec not in _COPY_AUDIO:
            return None
        if piece.audio.src != Span(a.start_ms, a.start_ms + a.duration_ms):
            return None
    return CopyPlan(piece.input, True, piece.audio is not None)
