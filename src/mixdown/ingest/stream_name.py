"""The name a participant pushes under: ``<SdkAppId>_<RoomId>_<StreamId>``.

Split at its first two underscores, so a StreamId keeps its own (``tic_record_user``,
``tic_substream_bob``). The shape is strict — digits, then digits, then the characters a
TRTC user id may hold — so nothing but a name of this shape is ever signed or recorded:
no path separators reach the record folder, and no bytes an MD5 length extension would
need can be appended to a signed name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: TRTC user ids: letters, digits, underscore and hyphen, at most 32 bytes (we allow 64).
_STREAM_ID = r"[A-Za-z0-9_-]{1,64}"
_NAME = re.compile(rf"([1-9][0-9]{{0,9}})_([1-9][0-9]{{0,9}})_({_STREAM_ID})")
#: RoomId's range in TIW: (1, 4294967295).
MAX_ROOM_ID = 4_294_967_295


@dataclass(frozen=True)
class StreamName:
    sdk_app_id: int
    room_id: int
    stream_id: str

    def __str__(self) -> str:
        return f"{self.sdk_app_id}_{self.room_id}_{self.stream_id}"

    @staticmethod
    def parse(text: str) -> StreamName | None:
        """The name's parts, or None for anything not of the strict shape."""
        found = _NAME.fullmatch(text)
        if found is None:
            return None
        app, room, stream = int(found[1]), int(found[2]), found[3]
        if room > MAX_ROOM_ID:
            return None
        return StreamName(app, room, stream)
