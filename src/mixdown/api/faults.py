"""Request-level failures of the API, each with its TencentCloud error code.

They join the one error tree (``mixdown.errors.MixdownError``); the envelope turns any
``MixdownError`` into an error response, so actions simply raise.
"""

from __future__ import annotations

from mixdown.errors import INVALID_PARAMETER_VALUE as INVALID_PARAMETER_VALUE
from mixdown.errors import MISSING_PARAMETER as MISSING_PARAMETER
from mixdown.errors import TYPE_UNMATCHED as TYPE_UNMATCHED
from mixdown.errors import UNKNOWN_PARAMETER as UNKNOWN_PARAMETER
from mixdown.errors import MixdownError

SIGNATURE_FAILURE = "AuthFailure.SignatureFailure"
SIGNATURE_EXPIRE = "AuthFailure.SignatureExpire"
SECRET_ID_NOT_FOUND = "AuthFailure.SecretIdNotFound"
INVALID_AUTHORIZATION = "AuthFailure.InvalidAuthorization"
INVALID_ACTION = "InvalidAction"
NO_SUCH_VERSION = "NoSuchVersion"
UNSUPPORTED_PROTOCOL = "UnsupportedProtocol"
INVALID_PARAMETER = "InvalidParameter"
CALLBACK_ADDRESS = "InvalidParameter.CallbackAddressFormatError"
SDK_APP_ID_NOT_FOUND = "InvalidParameter.SdkAppIdNotFound"
UNAUTHORIZED_SDK_APP_ID = "UnauthorizedOperation.SdkAppId"
TASK_NOT_FOUND = "InvalidParameter.TaskNotFound"
REQUEST_LIMIT = "RequestLimitExceeded"
REQUEST_SIZE = "RequestSizeLimitExceeded"
UNSUPPORTED_OPERATION = "UnsupportedOperation"
INVALID_TASK_STATUS = "UnsupportedOperation.InvalidTaskStatus"
TASK_ALREADY_STOPPED = "UnsupportedOperation.TaskHasAlreadyStopped"
RECORD_PARAMETER = "InvalidParameter.RecordParameter"
INVALID_EXTRA = "InvalidParameter.InvalidExtra"
RECORD_USER_IN_USE = "ResourceInUse.RecordUserId"
INTERFACE_UNAUTHORIZED = "ResourceUnavailable.InterfaceUnAuthorized"
INTERNAL_ERROR = "InternalError"


class ApiError(MixdownError):
    """A failure of one API call; the code is always given where it is raised."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)
