"""In-memory twins of the engine and of the callback sender, for tests without ffmpeg."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mixdown.domain.media import AudioTrack, MediaInfo, VideoTrack
from mixdown.domain.parameters import GenerationParams
from mixdown.domain.recording import Recording
from mixdown.domain.result import GenerationResult, VideoInfo
from mixdown.errors import Cancelled, MediaError, MixdownError


class FakeEngine:
    """Probes every file as a 2 s clip and "renders" one small file per task.

    ``gate``: generation waits for it (tasks stay unfinished until the test opens it);
    ``fail``: generation raises it; ``bad_url``: probing that URL raises MediaError.
    """

    def __init__(
        self,
        *,
        gate: threading.Event | None = None,
        fail: MixdownError | None = None,
        bad_url: str = "",
    ) -> None:
        self.gate, self.fail, self.bad_url = gate, fail, bad_url
        self.generated: list[Path] = []
        self.lock = threading.Lock()

    def probe(self, recording: Recording) -> dict[str, MediaInfo]:
        out = {}
        for seg in recording.all_segments():
            if self.bad_url and seg.url.endswith(self.bad_url):
                raise MediaError(f"{seg.url}: cannot read media (invalid data)")
            out[seg.url] = MediaInfo(
                video=VideoTrack(0, 2000, 160, 120, 15.0), audio=AudioTrack(0, 2000, 48000, 2)
            )
        return out

    def generate(
        self,
        recording: Recording,
        params: GenerationParams,
        out_dir: Path,
        *,
        probes: Mapping[str, MediaInfo],
        progress: Callable[[float], None],
        cancel: threading.Event,
    ) -> GenerationResult:
        with self.lock:
            self.generated.append(out_dir)
        (out_dir / "partial.tmp").write_bytes(b"half")
        progress(0.5)
        if self.gate is not None:
            while not self.gate.wait(0.05):
                if cancel.is_set():
                    raise Cancelled("cancelled")
        if self.fail is not None:
            raise self.fail
        (out_dir / "partial.tmp").unlink()
        (out_dir / "whiteboard_0.mp4").write_bytes(b"fake video " + recording.task_id.encode())
        progress(1.0)
        # Size 0 on purpose: the pipeline commits the size the file has.
        video = VideoInfo(
            play_time=0,
            size=0,
            format="mp4",
            duration=2000,
            url="whiteboard_0.mp4",
            video_id="0" * 32,
            video_type=2,
            user_id="",
            width=160,
            height=120,
        )
        return GenerationResult(total_time=2000, omitted=(), videos=(video,))


def manifest(url: str = "wb.mp4") -> dict[str, Any]:
    return {
        "RoomId": 42,
        "RecordStartTimeMs": 1_700_000_000_000,
        "RecordStopTimeMs": 1_700_000_002_000,
        "Streams": [
            {
                "StreamId": "tic_record_user",
                "Segments": [{"Url": url, "StartTime": 1_700_000_000_000}],
            }
        ],
        "Whiteboard": {"Width": 160, "Height": 120},
    }
