"""nginx's recordings as Mixdown trusts and finds them: only ``<stream name>-<seconds>.flv``
in the record folder, the file of a publish found by name and time after a crash, the lock
nginx holds while recording, and the FLV's first timestamp."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from mixdown.ingest import record_file

NAME = "1400000001_1203_alice"


def flv(path: Path, first_ts_ms: int) -> Path:
    header = b"FLV\x01\x05" + struct.pack(">I", 9) + struct.pack(">I", 0)
    script = bytes([18]) + (3).to_bytes(3, "big") + bytes(4) + bytes(3) + b"abc"
    script += struct.pack(">I", 14)
    ts = first_ts_ms.to_bytes(4, "big")
    video = bytes([9]) + (1).to_bytes(3, "big") + ts[1:] + ts[:1] + bytes(3) + b"\x17"
    path.write_bytes(header + script + video + struct.pack(">I", 12))
    return path


def test_only_a_recording_of_the_stream_in_the_record_folder_is_trusted(tmp_path: Path) -> None:
    good = tmp_path / f"{NAME}-1800000000.flv"
    assert record_file.recorded(tmp_path, NAME, str(good)) == good
    for path in (
        tmp_path / "elsewhere" / f"{NAME}-1800000000.flv",
        tmp_path / f"{NAME}-1800000000.flv.txt",
        tmp_path / f"{NAME}x-1800000000.flv",
        tmp_path / "1400000001_1203_bob-1800000000.flv",
        Path("/etc/passwd"),
        tmp_path / ".." / f"{NAME}-1800000000.flv",
    ):
        assert record_file.recorded(tmp_path, NAME, str(path)) is None, path


def test_a_publish_is_matched_to_the_file_named_nearest_its_time(tmp_path: Path) -> None:
    for seconds in (1_800_000_000, 1_800_000_100, 1_800_000_103):
        (tmp_path / f"{NAME}-{seconds}.flv").write_bytes(b"")
    (tmp_path / "1400000001_1203_alicex-1800000101.flv").write_bytes(b"")
    found = record_file.find(tmp_path, NAME, 1_800_000_101_500)
    assert found == tmp_path / f"{NAME}-1800000100.flv"
    assert record_file.find(tmp_path, NAME, 1_700_000_000_000) is None


def test_a_file_locked_by_its_writer_is_being_written(tmp_path: Path) -> None:
    path = tmp_path / f"{NAME}-1800000000.flv"
    path.write_bytes(b"FLV")
    assert not record_file.being_written(path)
    # Another process holds the write lock, as nginx does with record_lock on.
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,os,sys;fd=os.open(sys.argv[1],os.O_RDWR);fcntl.lockf(fd,fcntl.LOCK_EX);"
            "print('locked',flush=True);sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
            assert record_file.being_written(path)
        finally:
            holder.kill()
    assert not record_file.being_written(path)
    assert not record_file.being_written(tmp_path / "absent.flv")


def test_the_first_audio_or_video_timestamp_is_read_past_script_data(tmp_path: Path) -> None:
    assert record_file.first_timestamp_ms(flv(tmp_path / "a.flv", 1234)) == 1234
    assert record_file.first_timestamp_ms(flv(tmp_path / "b.flv", 0x1_02_03_04)) == 0x1_02_03_04
    (tmp_path / "c.flv").write_bytes(b"not flv at all")
    assert record_file.first_timestamp_ms(tmp_path / "c.flv") == 0
