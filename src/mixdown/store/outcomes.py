"""How a finished row holds its outcome, both ways: a generation's result as its JSON
document, a failure in the row's two error columns.

The one place where the typed outcome meets the stored columns, which stay as they were
(JSON and text, no migration): writers and readers of a row's outcome go through here.
"""

from __future__ import annotations

from mixdown.domain.outcome import Failure
from mixdown.domain.result import GenerationResult
from mixdown.store.models import GenerationTask, Recording


def write_failure(row: Recording | GenerationTask, failure: Failure | None) -> None:
    row.error_code, row.error_message = (failure.code, failure.message) if failure else (None, None)


def failure_of(row: Recording | GenerationTask) -> Failure | None:
    """The row's verdict; None while it has none (unfinished, or finished well)."""
    if not row.error_code:
        return None
    return Failure(row.error_code, row.error_message or "")


def write_result(row: GenerationTask, result: GenerationResult | None) -> None:
    row.result = result.to_document() if result is not None else None


def result_of(row: GenerationTask) -> GenerationResult | None:
    """The committed result; None before one is committed, or when the task failed."""
    return GenerationResult.from_document(row.result) if row.result else None
