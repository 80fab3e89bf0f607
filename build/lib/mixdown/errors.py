"""The one error tree. Every error carries a TencentCloud error code.

The API translates these to the response envelope in one place; the CLI prints
``code: message`` and exits 2 for input errors. Messages name the field path or the
file at fault, never internals.
"""

from __future__ import annotations

#: A value of the wrong JSON type, wherever it arrives (API body, manifest, parameters file).
TYPE_UNMATCHED = "InvalidParameter.BodyParameterTypeUnmatched"
#: A request names a parameter its action does not have.
UNKNOWN_PARAMETER = "UnknownParameter"
#: A request leaves out a parameter its action requires.
MISSING_PARAMETER = "MissingParameter"
#: A value of the right type that no parameter may take (out of range, too many items).
INVALID_PARAMETER_VALUE = "InvalidParameterValue"
#: A recording or generation failed for a reason of ours (TIW's own code for it).
RECORD_FAILED = "FailedOperation.Record"


class MixdownError(Exception):
    """Base of every expected failure; ``code`` is a TencentCloud error code."""

    code = "FailedOperation"
    #: True when the caller's input is at fault (CLI exit 2), False for our own failures.
    user_error = True

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidParameter(MixdownError):
    code = "InvalidParameter"


class RecordParameterError(InvalidParameter):
    """A generation parameter (Whiteboard, Concat, MixStream, RecordControl) is invalid."""

    code = "InvalidParameter.RecordParameter"


class ManifestError(InvalidParameter):
    """The recording manifest is malformed."""

    code = "InvalidParameter"


class InvalidParameterValue(MixdownError):
    code = INVALID_PARAMETER_VALUE


class MediaError(MixdownError):
    """A media file cannot be read or used; the message names the file."""

    code = "FailedOperation.Media"


class RenderError(MixdownError):
    """ffmpeg failed on input that looked valid."""

    code = RECORD_FAILED
    user_error = False


class TaskConcurrencyExceeded(MixdownError):
    """The app already has as many unfinished generation tasks as its limit allows."""

    code = "LimitExceeded.TaskConcurrency"


class Cancelled(MixdownError):
    code = "FailedOperation.Cancelled"
    user_error = False


class ResourceUnavailable(MixdownError):
    """A service Mixdown depends on (the database) does not answer."""

    code = "ResourceUnavailable"


class InternalError(MixdownError):
    code = "InternalError"
    user_error = False


class StorageError(MixdownError):
    """The object store (a folder or S3) failed; the message names the bucket and key."""

    code = "FailedOperation.Storage"
    user_error = False
