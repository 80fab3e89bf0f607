"""Which RTMP pushes are let in: the strict stream name, the signature, the expiry."""

from __future__ import annotations

import hashlib

import pytest

from mixdown.ingest.push_signature import grant, refusal, signature
from mixdown.ingest.stream_name import StreamName

KEY = "push-key-0123456789abcdef"
NOW_S = 1_760_000_000
NAME = StreamName(1400000001, 1203, "tic_record_user")


class TestStreamNames:
    @pytest.mark.parametrize(
        ("text", "parts"),
        [
            ("1400000001_1203_teacher", (1400000001, 1203, "teacher")),
            ("1400000001_1203_tic_record_user", (1400000001, 1203, "tic_record_user")),
            ("1400000001_1203_tic_substream_bob-2", (1400000001, 1203, "tic_substream_bob-2")),
            ("7_4294967295_a", (7, 4294967295, "a")),
        ],
    )
    def test_a_name_splits_at_its_first_two_underscores(
        self, text: str, parts: tuple[int, int, str]
    ) -> None:
        name = StreamName.parse(text)
        assert name is not None
        assert (name.sdk_app_id, name.room_id, name.stream_id) == parts
        assert str(name) == text

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "1400000001_1203",  # no stream id
            "1400000001_1203_",
            "abc_1203_teacher",
            "1400000001_0_teacher",  # room 0 is out of TIW's range
            "1400000001_4294967296_teacher",
            "01400000001_1203_teacher",  # no leading zeros: one spelling per name
            "1400000001_1203_../../etc",
            "1400000001_1203_teacher.flv",
            "1400000001_1203_teach er",
            "1400000001_1203_t\x80\x00\x00",  # the padding an MD5 length extension appends
            "1400000001_1203_" + "a" * 65,
        ],
    )
    def test_anything_else_is_not_a_stream_name(self, text: str) -> None:
        assert StreamName.parse(text) is None


class TestSignatures:
    def test_the_signature_is_md5_of_key_name_and_hex_time(self) -> None:
        expected = hashlib.md5(f"{KEY}{NAME}6C8B8B00".encode()).hexdigest()
        assert signature(KEY, NAME, "6C8B8B00") == expected

    def test_a_granted_push_is_let_in_until_it_expires(self) -> None:
        given = grant(KEY, NAME, NOW_S + 60)
        assert int(given.tx_time, 16) == NOW_S + 60
        assert refusal(KEY, NAME, given.tx_time, given.tx_secret, NOW_S) == ""
        assert refusal(KEY, NAME, given.tx_time, given.tx_secret.upper(), NOW_S) == ""
        assert "expired" in refusal(KEY, NAME, given.tx_time, given.tx_secret, NOW_S + 60)

    def test_a_signature_holds_only_for_its_own_name_key_and_time(self) -> None:
        given = grant(KEY, NAME, NOW_S + 60)
        other = StreamName(1400000001, 1203, "teacher")
        later = format(NOW_S + 3600, "X")
        for key, name, tx_time in ((KEY + "x", NAME, given.tx_time), (KEY, other, given.tx_time),
                                   (KEY, NAME, later)):  # fmt: skip
            assert refusal(key, name, tx_time, given.tx_secret, NOW_S) == "txSecret does not match"

    @pytest.mark.parametrize(
        ("tx_time", "tx_secret", "reason"),
        [
            ("", "", "no txTime and txSecret"),
            ("6C8B8B00", "", "no txTime and txSecret"),
            ("6C8B8B00g", "0" * 32, "malformed"),
            ("1" * 9, "0" * 32, "malformed"),  # beyond 2106: not parsed, refused
            ("6C8B8B00", "0" * 31, "malformed"),
        ],
    )
    def test_a_missing_or_malformed_grant_is_refused(
        self, tx_time: str, tx_secret: str, reason: str
    ) -> None:
        assert reason in refusal(KEY, NAME, tx_time, tx_secret, NOW_S)
