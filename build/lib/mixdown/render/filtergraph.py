"""One Render of the plan -> an ffmpeg ``-filter_complex`` graph. Pure string building.

Shape (chosen so memory stays flat whatever the recording's length):
- every input is decoded once; ``split``/``asplit`` feed its users, which all consume it
  in step because every output of one Render shares one timeline;
- a clip is cut and placed with ``select`` + a piecewise ``setpts`` on the input's own
  timestamps (no ``trim``+``concat`` branches that buffer whole segments);
- video clips are overlaid on a canvas source that drives the frame rate, each overlay
  enabled only during its clips;
- each audio lane is a ``concat`` of silence and clips cut to exact sample counts, so
  lanes stay sample-aligned; lanes are summed with fixed weights and limited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from mixdown.domain.geometry import ffmpeg_color
from mixdown.planning.plan import AudioPlan, Clip, Placement, Render, VideoPlan

SAMPLE_RATE = 48000
_AFORMAT = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"


def sec(ms: int) -> str:
    """Milliseconds as an exact decimal string of seconds."""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    return f"{sign}{ms // 1000}.{ms % 1000:03d}"


def samples(ms: int) -> int:
    return ms * SAMPLE_RATE // 1000


@dataclass
class Graph:
    """A filter graph under construction plus the labels each output maps."""

    fps: int
    #: Plan input index -> ffmpeg input number.
    input_numbers: dict[int, int]
    #: Plan input index -> ms skipped by an input seek (its clips' src shift by that much).
    seeks: dict[int, int] = field(default_factory=dict)
    #: Plan input indexes whose audio is mono.
    mono: set[int] = field(default_factory=set)
    #: Plan input indexes whose picture size changes inside the file.
    resizing: set[int] = field(default_factory=set)
    image_numbers: dict[str, int] = field(default_factory=dict)
    chains: list[str] = field(default_factory=list)
    video_out: dict[int, str] = field(default_factory=dict)
    audio_out: dict[int, str] = field(default_factory=dict)
    #: Outputs (mp3 files) whose sound is mono and is written as one channel.
    mono_out: set[int] = field(default_factory=set)
    _uses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _n: int = 0

    def label(self, stem: str) -> str:
        self._n += 1
        return f"{stem}{self._n}"

    def use(self, source: str) -> str:
        """A fresh label fed from ``source`` (an input pad); splits are added at the end."""
        lab = self.label("u")
        self._uses[source].append(lab)
        return f"[{lab}]"

    def text(self) -> str:
        splits = []
        for source, labels in self._uses.items():
            if len(labels) == 1:
                # Rename by a null pass so users keep their label.
                kind = "anull" if source.endswith(":a") else "null"
                splits.append(f"[{source}]{kind}[{labels[0]}]")
            else:
                kind = "asplit" if source.endswith(":a") else "split"
                outs = "".join(f"[{x}]" for x in labels)
                splits.append(f"[{source}]{kind}={len(labels)}{outs}")
        return ";".join(splits + self.chains)


def build_graph(
    render: Render,
    input_numbers: dict[int, int],
    image_numbers: dict[str, int],
    fps: int,
    seeks: dict[int, int] | None = None,
    mono: set[int] | None = None,
    resizing: set[int] | None = None,
) -> Graph:
    g = Graph(fps=fps, input_numbers=input_numbers, image_numbers=image_numbers)
    g.seeks = dict(seeks or {})
    g.mono = set(mono or ())
    g.resizing = set(resizing or ())
    audio_labels: dict[AudioPlan, list[int]] = {}
    for i, out in enumerate(render.outputs):
        if out.video is not None:
            g.video_out[i] = _video(g, out.video, out.duration)
        if out.audio is not None:
            audio_labels.setdefault(out.audio, []).append(i)
    for audio, users in audio_labels.items():
        duration = max(render.outputs[i].duration for i in users)
        label = _audio(g, audio, duration)
        if len(users) == 1:
            g.audio_out[users[0]] = label
        else:
            outs = [g.label("as") for _ in users]
            g.chains.append(f"[{label}]asplit={len(users)}" + "".join(f"[{o}]" for o in outs))
            for i, o in zip(users, outs, strict=True):
                g.audio_out[i] = o
    for i, out in enumerate(render.outputs):
        if out.format == "mp3" and out.audio is not None and _all_mono(g, out.audio):
            # A microphone's file stays mono: half the encoding work, the same sound.
            label = g.label("m")
            g.chains.append(f"[{g.audio_out[i]}]pan=mono|c0=c0[{label}]")
            g.audio_out[i] = label
            g.mono_out.add(i)
    return g


def _all_mono(g: Graph, audio: AudioPlan) -> bool:
    return all(c.input in g.mono for lane in audio.lanes for c in lane)


def _video(g: Graph, video: VideoPlan, duration: int) -> str:
    canvas = g.label("bg")
    size = f"{video.width}x{video.height}"
    g.chains.append(
        f"color=c={ffmpeg_color(video.background)}:s={size}:r={g.fps}:d={sec(duration)},"
        f"format=yuv420p[{canvas}]"
    )
    if video.image:
        canvas = _image_canvas(g, video, duration, canvas)
    for placement in video.placements:
        canvas = _overlay(g, canvas, placement, _scaler(video, placement))
    return canvas


def _scaler(video: VideoPlan, placement: Placement) -> str:
    """Tiles of a quarter of the canvas or less scale bilinear: cheaper than bicubic, and
    smoother, so x264 spends fewer bits on them (fast_bilinear aliases: +14 % bitrate)."""
    small = placement.rect.width * placement.rect.height * 4 <= video.width * video.height
    return "bilinear" if small else "bicubic"


def _image_canvas(g: Graph, video: VideoPlan, duration: int, canvas: str) -> str:
    """The filler image fitted on the background, drawn once and held for the whole output."""
    number = g.image_numbers[video.image]
    still, out = g.label("img"), g.label("bgi")
    # Alpha is kept until the overlay, so transparent parts show the background.
    g.chains.append(
        f"[{number}:v]format=yuva420p,{_fit(video.width, video.height, video.background)},"
        f"loop=loop=-1:size=1,setpts=N/({g.fps}*TB),trim=end={sec(duration)}[{still}]"
    )
    g.chains.append(f"[{canvas}][{still}]overlay=0:0:eof_action=pass[{out}]")
    return out


# No setsar: an overlay's output takes the canvas's aspect ratio (square), whatever the
# tile's; a filter less per tile and frame.
def _fit(width: int, height: int, background: str, flags: str = "bicubic") -> str:
    return (
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:force_divisible_by=2:"
        f"flags={flags},"
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color={ffmpeg_color(background)}"
    )


def _cover(width: int, height: int, flags: str = "bicubic") -> str:
    return (
        f"scale={width}:{height}:force_original_aspect_ratio=increase:flags={flags},"
        f"crop={width}:{height}"
    )


def _centred(g: Graph, placement: Placement, flags: str) -> str:
    """Fit or cover for an input whose size changes inside the file.

    With one filter graph for the whole file (``-reinit_filter 0``), ``scale`` reconfigures
    itself for each new size but ``pad`` and ``crop`` keep the first size's geometry (after
    a 4:3 -> 16:9 change the fitted tile sat at the slot's top, the cover crop at its left).
    An overlay with ``eval=frame`` places every frame by its own size instead: centred on a
    slot-sized background that also clips what a cover scale lets overflow.
    """
    rect = placement.rect
    keep = "increase" if placement.fill_mode == 1 else "decrease:force_divisible_by=2"
    scaled, base = g.label("z"), g.label("zb")
    size = f"{rect.width}x{rect.height}"
    return (
        f"scale={rect.width}:{rect.height}:force_original_aspect_ratio={keep}:flags={flags}"
        f"[{scaled}];color=c={ffmpeg_color(placement.background)}:s={size}:r={g.fps}[{base}];"
        f"[{base}][{scaled}]overlay=x='(W-w)/2':y='(H-h)/2':eval=frame:shortest=1"
    )


def _overlay(g: Graph, canvas: str, placement: Placement, flags: str) -> str:
    number = g.input_numbers[placement.input]
    source = g.use(f"{number}:v")
    rect = placement.rect
    if placement.input in g.resizing:
        shape = _centred(g, placement, flags)
    elif placement.fill_mode == 1:
        shape = _cover(rect.width, rect.height, flags)
    else:
        shape = _fit(rect.width, rect.height, placement.background, flags)
    # The tile starts at frame 0 with generated padding up to its first clip, so the
    # overlay never waits on a late input (libavfilter would queue canvas frames meanwhile)
    # and the input is only read once its turn comes.
    lead = min(c.at for c in placement.clips) * g.fps // 1000
    clips = _seeked(g, placement.clips)
    # trim ends the tile after its last clip, so ffmpeg stops decoding that input instead
    # of dropping the rest of the file while the overlay holds canvas frames.
    end = max(c.src.end for c in clips)
    tile, out = g.label("t"), g.label("v")
    # settb: setpts shifts in 90 kHz ticks, where ms and lead/fps are exact; in the input's
    # own time base (1 ms for FLV/MKV) lead/fps would round, and frames would move by one.
    # A tile that starts with the output needs no lead: every filter here costs per frame.
    pad = f",tpad=start={lead}" if lead else ""
    g.chains.append(
        f"{source}trim=end={sec(end)},{_select(clips)},settb=1/90000,"
        f"{_setpts(clips, lead, g.fps)},"
        f"fps={g.fps}:start_time=0,{shape}{pad}[{tile}]"
    )
    enable = _any([f"between(t,{sec(c.at)},{sec(c.end)})" for c in placement.clips])
    g.chains.append(
        f"[{canvas}][{tile}]overlay={rect.x}:{rect.y}:eof_action=pass:enable='{enable}'[{out}]"
    )
    return out


def _seeked(g: Graph, clips: tuple[Clip, ...]) -> tuple[Clip, ...]:
    skip = g.seeks.get(clips[0].input, 0)
    return tuple(Clip(c.input, c.src.shift(-skip), c.at) for c in clips)


def _select(clips: tuple[Clip, ...]) -> str:
    terms = [f"gte(t,{sec(c.src.start)})*lt(t,{sec(c.src.end)})" for c in clips]
    return f"select='{_any(terms)}'"


def _any(terms: list[str]) -> str:
    """A balanced sum: ffmpeg's expression parser fails on long flat chains (many pauses)."""
    if len(terms) == 1:
        return terms[0]
    mid = len(terms) // 2
    return f"({_any(terms[:mid])}+{_any(terms[mid:])})"


def _setpts(clips: tuple[Clip, ...], lead_frames: int, fps: int) -> str:
    """Piecewise shift from the input's time to the output's, less the padded lead."""
    ordered = sorted(clips, key=lambda c: c.src.start)
    # round(): a truncated float would move a frame one tick early on some time bases.
    return f"setpts='round((T+{_shift(ordered)}-{lead_frames}/{fps})/TB)'"


def _shift(ordered: list[Clip]) -> str:
    """The clip's shift by binary search on T, so the expression stays shallow."""
    if len(ordered) == 1:
        return sec(ordered[0].at - ordered[0].src.start)
    mid = len(ordered) // 2
    pivot = sec(ordered[mid].src.start)
    return f"if(lt(T,{pivot}),{_shift(ordered[:mid])},{_shift(ordered[mid:])})"


def _audio(g: Graph, audio: AudioPlan, duration: int) -> str:
    lanes = [_lane(g, lane, duration) for lane in audio.lanes]
    if len(lanes) == 1:
        return lanes[0]
    out = g.label("mix")
    ins = "".join(f"[{x}]" for x in lanes)
    # Fixed weights: no level jumps when people join or leave; the limiter stops clipping.
    g.chains.append(
        f"{ins}amix=inputs={len(lanes)}:normalize=0:duration=longest,"
        f"alimiter=limit=0.97:level=false:latency=true[{out}]"
    )
    return out


def _lane(g: Graph, clips: tuple[Clip, ...], duration: int) -> str:
    parts: list[str] = []
    cursor = 0
    for clip in sorted(clips, key=lambda c: c.at):
        if clip.at > cursor:
            parts.append(_silence(g, clip.at - cursor))
        parts.append(_audio_clip(g, clip))
        cursor = clip.end
    if duration > cursor:
        parts.append(_silence(g, duration - cursor))
    if len(parts) == 1:
        return parts[0]
    out = g.label("lane")
    ins = "".join(f"[{p}]" for p in parts)
    g.chains.append(f"{ins}concat=n={len(parts)}:v=0:a=1[{out}]")
    return out


def _silence(g: Graph, ms: int) -> str:
    out = g.label("s")
    g.chains.append(
        f"anullsrc=r={SAMPLE_RATE}:cl=stereo:d={sec(ms)},{_AFORMAT},"
        f"atrim=end_sample={samples(ms)}[{out}]"
    )
    return out


def _audio_clip(g: Graph, clip: Clip) -> str:
    """Exactly ``samples(length)`` samples of the input's audio from ``clip.src``."""
    number = g.input_numbers[clip.input]
    source = g.use(f"{number}:a")
    # A mono microphone goes to both channels at full level; the automatic upmix would
    # put it 3 dB lower, as a centre channel.
    upmix = "pan=stereo|c0=c0|c1=c0," if clip.input in g.mono else ""
    (clip,) = _seeked(g, (clip,))
    n = samples(clip.src.length)
    out = g.label("a")
    # first_pts=0 pads a track that starts after the file's first sample; async fills
    # holes inside the track, so sample position == timestamp from here on.
    g.chains.append(
        f"{source}{upmix}aresample={SAMPLE_RATE}:async=1:min_hard_comp=0.02:first_pts=0,{_AFORMAT},"
        f"atrim=start={sec(clip.src.start)}:end={sec(clip.src.end)},asetpts=PTS-STARTPTS,"
        f"apad=whole_len={n},atrim=end_sample={n}[{out}]"
    )
    return out
