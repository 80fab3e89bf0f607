import pytest

from mixdown.domain.parameters import RecordControl, StreamControl
from mixdown.planning.control import StreamSelection, select

CONTROL = RecordControl(
    enabled=True,
    disable_record=True,
    stream_controls=(
        StreamControl("tic_record_user"),
        StreamControl("teach", disable_audio=True),
        StreamControl("teacher", pull_small_video=True),
        StreamControl("tic_substream", disable_record=True),
    ),
)


@pytest.mark.parametrize(
    ("stream_id", "control", "expected"),
    [
        ("anyone", None, StreamSelection()),
        ("anyone", RecordControl(enabled=False, disable_record=True), StreamSelection()),
        ("anyone", CONTROL, StreamSelection(record=False)),
        ("tic_record_user_42_x", CONTROL, StreamSelection()),
        ("teacher_1", CONTROL, StreamSelection(small=True)),  # longest prefix wins
        ("teach_2", CONTROL, StreamSelection(audio=False)),
        ("tic_substream_teacher", CONTROL, StreamSelection(record=False)),
        ("x", RecordControl(enabled=True, disable_audio=True), StreamSelection(audio=False)),
    ],
)
def test_the_longest_matching_stream_control_wins_else_the_globals(
    stream_id: str, control: RecordControl | None, expected: StreamSelection
) -> None:
    assert select(stream_id, control) == expected
