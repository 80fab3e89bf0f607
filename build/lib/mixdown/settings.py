"""Settings, read in one place (``Settings.from_env``) and passed down."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace

from mixdown.errors import InternalError


@dataclass(frozen=True)
class Encoding:
    """Output encoding defaults (DESIGN §2)."""

    fps: int = 15
    crf: int = 23
    preset: str = "veryfast"
    #: On top of the preset: the cheapest motion search (diamond, subme 1) costs 14 % less
    #: CPU on a class mix for about 6 % more bits (bench/README.md). Cleared when a preset
    #: is chosen by the environment, so that preset applies as x264 defines it.
    x264_params: str = "me=dia:subme=1"
    audio_bitrate_k: int = 128
    sample_rate: int = 48000
    mp3_bitrate_k: int = 128


@dataclass(frozen=True)
class Leases:
    """How long a cluster job may go without a heartbeat before its work is handed to
    another worker (``MIXDOWN_LEASE_SECONDS``); beats and sweeps come several times a lease."""

    lease_s: float = 60.0

    @property
    def beat_s(self) -> float:
        return self.lease_s / 6

    @property
    def sweep_s(self) -> float:
        return self.lease_s / 3


@dataclass(frozen=True)
class Settings:
    ffmpeg: str
    encoding: Encoding = Encoding()
    leases: Leases = Leases()
    #: Caps that keep hostile input from exhausting the machine (DESIGN §7).
    max_download_bytes: int = 4 * 1024**3
    max_duration_ms: int = 24 * 3600 * 1000
    #: Renders of one generation run side by side on this many lanes (DESIGN §6: use
    #: both cores; the mix alone leaves part of the second idle).
    render_lanes: int = 2
    #: Cut a long encoded mp4 (the mixed video) into chunks of about this many ms that
    #: render apart and join by stream copy; None: render each output in one piece.
    chunk_ms: int | None = None

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        enc = Encoding()
        if env.get("MIXDOWN_PRESET"):
            enc = replace(enc, preset=env["MIXDOWN_PRESET"], x264_params="")
        if "MIXDOWN_X264_PARAMS" in env:
            enc = replace(enc, x264_params=env["MIXDOWN_X264_PARAMS"])
        if env.get("MIXDOWN_CRF"):
            enc = replace(enc, crf=_whole(env, "MIXDOWN_CRF", 0))
        lanes = _whole(env, "MIXDOWN_RENDER_LANES", 1) if env.get("MIXDOWN_RENDER_LANES") else 2
        leases = (
            Leases(_seconds(env, "MIXDOWN_LEASE_SECONDS"))
            if env.get("MIXDOWN_LEASE_SECONDS")
            else Leases()
        )
        return Settings(
            ffmpeg=find_ffmpeg(env.get("MIXDOWN_FFMPEG")),
            encoding=enc,
            leases=leases,
            render_lanes=lanes,
            chunk_ms=_chunk_ms(env),
        )


def _chunk_ms(env: Mapping[str, str]) -> int | None:
    """``MIXDOWN_CHUNK_SECONDS``: the chunk length a value here forces."""
    if not env.get("MIXDOWN_CHUNK_SECONDS"):
        return None
    return _whole(env, "MIXDOWN_CHUNK_SECONDS", 1) * 1000


def _seconds(env: Mapping[str, str], name: str) -> float:
    try:
        value = float(env[name].strip())
    except ValueError:
        value = 0.0
    if not 0.5 <= value <= 86400:  # a beat every lease/6 must stay a sane interval
        raise InternalError(f"{name}={env[name]!r} is not a number of seconds in 0.5..86400")
    return value


def _whole(env: Mapping[str, str], name: str, least: int) -> int:
    text = env[name].strip()
    if not text.isdigit() or int(text) < least:
        raise InternalError(f"{name}={env[name]!r} is not a whole number >= {least}")
    return int(text)


def find_ffmpeg(configured: str | None = None) -> str:
    """The configured ffmpeg, else the imageio-ffmpeg wheel's binary, else one on PATH."""
    if configured:
        found = shutil.which(configured)
        if not found:
            raise InternalError(f"MIXDOWN_FFMPEG={configured!r} is not an executable")
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found:
            return found
    raise InternalError("no ffmpeg found: install imageio-ffmpeg or set MIXDOWN_FFMPEG")
