"""RecordControl: which streams are generated, with or without audio, main or small video."""

from __future__ import annotations

from dataclasses import dataclass

from mixdown.domain.parameters import RecordControl


@dataclass(frozen=True)
class StreamSelection:
    record: bool = True
    audio: bool = True
    small: bool = False


def select(stream_id: str, control: RecordControl | None) -> StreamSelection:
    """The StreamControls entry whose StreamId is the longest prefix wins, else the globals."""
    if control is None or not control.enabled:
        return StreamSelection()
    matches = [c for c in control.stream_controls if stream_id.startswith(c.stream_id)]
    if matches:
        best = max(matches, key=lambda c: len(c.stream_id))
        return StreamSelection(
            record=not best.disable_record,
            audio=not best.disable_audio,
            small=best.pull_small_video,
        )
    return StreamSelection(
        record=not control.disable_record,
        audio=not control.disable_audio,
        small=control.pull_small_video,
    )
