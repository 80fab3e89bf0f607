"""How work that produced nothing ended: with a verdict (``Failure``), or without one
(``Interrupted``: the server stopped it, and it runs again after the restart)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failure:
    """The verdict on failed work: a TencentCloud error code and a sentence naming the cause
    (the field or file at fault), as the task's error and its callback report them."""

    code: str
    message: str

    def __post_init__(self) -> None:
        # A verdict always names its code; "no code" is not a failure but ``Interrupted``.
        if not self.code:
            raise ValueError("a Failure needs an error code")


@dataclass(frozen=True)
class Interrupted:
    """No verdict: the work stopped with the server, is given back and runs again."""
