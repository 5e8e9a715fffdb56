"""StoreError and its kinds: every SDK failure is translated here, at one boundary, keeping its cause and code."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "Throttling",
}
_DENIED = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
}
_UNSUPPORTED = {"UnknownOperationException", "NotImplemented", "InvalidAction", "UnsupportedOperation"}

# How long a client is asked to wait before retrying a page that failed on the backend.
RETRY_AFTER_SECONDS = 5


class StoreError(Exception):
    """A DynamoDB answer the dashboard turns into a page, not a traceback.

    `code` is the SDK's error code (DynamoDB's, or botocore's exception name when no answer came),
    so that a call site can decide on it; the SDK exception itself stays the `__cause__`.

    `message` is safe to show to users: it never holds DynamoDB's own text (an AccessDenied names the
    assumed role's ARN) nor the endpoint; `detail` keeps those for the log.
    """

    def __init__(self, message: str, code: str = "", detail: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail or message


class EventNotFound(StoreError):
    pass


class EventExists(StoreError):
    pass


class BackendUnavailable(StoreError):
    pass


class Throttled(BackendUnavailable):
    pass


class WriteOutcomeUnknown(BackendUnavailable):
    """A write whose answer was lost and could not be checked: it may or may not have been stored."""

    def __init__(self, message: str, code: str, event_id: str):
        super().__init__(message, code)
        self.event_id = event_id


class DeadlineExceeded(BackendUnavailable):
    """The request's deadline passed before DynamoDB answered (see deadline.py)."""


class TableMissing(BackendUnavailable):
    pass


class AccessDenied(StoreError):
    pass


class Unsupported(StoreError):
    """The endpoint lacks this API (a DynamoDB stand-in without PITR or auto-scaling, say)."""


class Rejected(StoreError):
    """DynamoDB refused the request as invalid (an item over 400 KB, say)."""


def retried(error: StoreError) -> bool:
    """Whether botocore made more than one attempt before this error (so an earlier one may have been applied)."""
    cause = error.__cause__
    metadata = cause.response.get("ResponseMetadata", {}) if isinstance(cause, ClientError) else {}
    return int(metadata.get("RetryAttempts") or 0) > 0


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate(error: ClientError, table_name: str, endpoint_url: str, operation: str = "",
              service: str = "DynamoDB") -> StoreError:
    """The domain error for one ClientError; the caller raises it `from error`.

    The message people read names who answered (`service`: DynamoDB, CloudWatch ...), the operation and
    the error code, never AWS's own text (it can hold an assumed role's ARN) nor the endpoint: `detail`
    keeps those for the log.
    """
    code = error_code(error)
    message = str(error.response.get("Error", {}).get("Message", "")) or code
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    detail = f"{operation or 'call'} on {table_name} at {endpoint_url}: {code or status}: {message}"
    asked = f" to {operation}" if operation else ""
    if code in _THROTTLED:
        return Throttled(f"{service} is throttling requests ({code}); try again in a moment", code, detail)
    if code in _DENIED:
        return AccessDenied(f"{service} refused access{asked} ({code})", code, detail)
    if code == "ResourceNotFoundException":
        return TableMissing(f"table {table_name} was not found ({code})", code, detail)
    if code in _UNSUPPORTED or status in (404, 501):
        return Unsupported(f"the endpoint does not support {operation or 'this call'} ({code or status})", code,
                           detail)
    if code == "ValidationException":
        return Rejected(f"{service} rejected the request as invalid ({code}); the reason is in the dashboard's log",
                        code, detail)
    return BackendUnavailable(f"{service} answered with an error ({code or status})", code, detail)


def operation_name(operation: Callable[..., Any]) -> str:
    """The service's name for a bound client method (`describe_table` -> `DescribeTable`)."""
    client = getattr(operation, "__self__", None)
    mapping = getattr(getattr(client, "meta", None), "method_to_api_mapping", {}) or {}
    return str(mapping.get(getattr(operation, "__name__", ""), ""))


def call(operation: Callable[..., Any], table_name: str, **request: Any) -> dict[str, Any]:
    """Make one SDK call; every failure leaves as a StoreError whose cause is the SDK's exception."""
    client = getattr(operation, "__self__", None)  # a bound method of a boto3 client
    try:
        response: dict[str, Any] = operation(**request)
    except StoreError:
        raise  # the deadline hook's own refusal (deadline.py)
    except ClientError as error:
        endpoint = str(client.meta.endpoint_url) if client is not None else "the configured endpoint"
        raise translate(error, table_name, endpoint, operation_name(operation), _service(client)) from error
    except NoCredentialsError as error:
        raise BackendUnavailable("no AWS credentials are configured for the dashboard",
                                 type(error).__name__) from error
    except BotoCoreError as error:
        # botocore's text names the endpoint: the log keeps it, the user gets the kind of failure.
        raise BackendUnavailable(f"{_service(client)} did not answer ({type(error).__name__})", type(error).__name__,
                                 f"{operation_name(operation)} on {table_name}: {error}") from error
    return response


def _service(client: Any) -> str:
    return str(client.meta.service_model.service_id) if client is not None else "DynamoDB"
