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
    """

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code


class EventNotFound(StoreError):
    pass


class EventExists(StoreError):
    pass


class BackendUnavailable(StoreError):
    pass


class Throttled(BackendUnavailable):
    pass


class TableMissing(BackendUnavailable):
    pass


class AccessDenied(StoreError):
    pass


class Unsupported(StoreError):
    """The endpoint lacks this API (a DynamoDB stand-in without PITR or auto-scaling, say)."""


class Rejected(StoreError):
    """DynamoDB refused the request as invalid (an item over 400 KB, say)."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate(error: ClientError, table_name: str, endpoint_url: str, service: str = "DynamoDB") -> StoreError:
    """The domain error for one ClientError; the caller raises it `from error`.

    `service` names who answered (DynamoDB, CloudWatch ...) in the message people read.
    """
    code = error_code(error)
    message = str(error.response.get("Error", {}).get("Message", "")) or code
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in _THROTTLED:
        return Throttled(f"{service} is throttling requests ({code}); try again in a moment", code)
    if code in _DENIED:
        return AccessDenied(f"{service} refused access ({code}): {message}", code)
    if code == "ResourceNotFoundException":
        return TableMissing(f"table {table_name} was not found at {endpoint_url} ({message})", code)
    if code in _UNSUPPORTED or status in (404, 501):
        return Unsupported(f"the endpoint does not support this call ({code or status}): {message}", code)
    if code == "ValidationException":
        return Rejected(f"{service} rejected the request: {message}", code)
    return BackendUnavailable(f"{service} answered with an error ({code}): {message}", code)


def call(operation: Callable[..., Any], table_name: str, **request: Any) -> dict[str, Any]:
    """Make one SDK call; every failure leaves as a StoreError whose cause is the SDK's exception."""
    try:
        response: dict[str, Any] = operation(**request)
    except ClientError as error:
        client = getattr(operation, "__self__", None)  # a bound method of a boto3 client
        endpoint = str(client.meta.endpoint_url) if client is not None else "the configured endpoint"
        raise translate(error, table_name, endpoint, _service(client)) from error
    except NoCredentialsError as error:
        raise BackendUnavailable("no AWS credentials are configured for the dashboard",
                                 type(error).__name__) from error
    except BotoCoreError as error:
        client = getattr(operation, "__self__", None)
        raise BackendUnavailable(f"{_service(client)} did not answer: {error}", type(error).__name__) from error
    return response


def _service(client: Any) -> str:
    return str(client.meta.service_model.service_id) if client is not None else "DynamoDB"
