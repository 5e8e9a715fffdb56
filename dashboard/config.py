"""One Settings object read from the environment, validated once at start-up."""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

DEFAULT_TABLE = "devops-studio-dev-events"
# The region a DynamoDB stand-in is asked in when nothing names one (moto keeps tables per region).
LOCAL_REGION = "us-east-1"
# DynamoDB's own rule for table names.
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """The environment does not describe a dashboard that can start."""


def _flag(env: Mapping[str, Any], name: str) -> bool:
    value = env.get(name, "")
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}")


def _bounded(env: Mapping[str, Any], name: str, default: float, kind: type, low: float, high: float,
             what: str) -> Any:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {what}, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be {what} from {low:g} to {high:g}, not {raw!r}")
    return value


def _seconds(env: Mapping[str, Any], name: str, default: float) -> float:
    return _bounded(env, name, default, float, 0.1, 300, "a number of seconds")


def _attempts(env: Mapping[str, Any], name: str, default: int) -> int:
    return _bounded(env, name, default, int, 1, 10, "a whole number")


@dataclass(frozen=True)
class Settings:
    table_name: str
    secret_key: str
    read_only: bool = False
    # The embedded moto server started by `make run`: shows the local-data banner.
    local_mode: bool = False
    # Where DynamoDB answers when it is not AWS: boto3's own variables, read here too so that
    # create_app(config) can point one app at a test endpoint without touching os.environ.
    dynamodb_endpoint: str | None = None
    # A DynamoDB stand-in (moto, DynamoDB Local) is asked about auto-scaling too, rather than
    # real AWS with the stand-in's credentials; one that lacks the API says so on /status.
    autoscaling_endpoint: str | None = None
    region: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    max_attempts: int = 3
    # One deadline per request over all its DynamoDB calls and their retries (store/deadline.py).
    deadline_seconds: float = 4.0

    @classmethod
    def from_mapping(cls, env: Mapping[str, Any]) -> Settings:
        table_name = str(env.get("EVENTS_TABLE") or DEFAULT_TABLE).strip()
        if not _TABLE_NAME.match(table_name):
            raise ConfigError(
                f"EVENTS_TABLE {table_name!r} is not a DynamoDB table name "
                "(3-255 characters: letters, digits, '_', '-', '.')"
            )
        local_mode = _flag(env, "DASHBOARD_LOCAL")
        secret_key = str(env.get("SECRET_KEY") or "")
        if not secret_key:
            if not local_mode:
                raise ConfigError(
                    "SECRET_KEY is not set: it signs sessions, CSRF tokens and page cursors. "
                    "Set it to a long random value (python -c 'import secrets; print(secrets.token_hex(32))')."
                )
            # Local demo only: a fresh key per start is fine, nothing outlives the process.
            secret_key = secrets.token_hex(32)
        elif len(secret_key) < 16 and not local_mode:
            raise ConfigError("SECRET_KEY is too short: use at least 16 random characters")
        return cls(
            table_name=table_name,
            secret_key=secret_key,
            read_only=_flag(env, "DASHBOARD_READ_ONLY"),
            local_mode=local_mode,
            dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL") or None,
            autoscaling_endpoint=(env.get("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING") or env.get("AWS_ENDPOINT_URL")
                                  or env.get("AWS_ENDPOINT_URL_DYNAMODB") or None),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            connect_timeout=_seconds(env, "DYNAMODB_CONNECT_TIMEOUT", 3.0),
            read_timeout=_seconds(env, "DYNAMODB_READ_TIMEOUT", 5.0),
            max_attempts=_attempts(env, "DYNAMODB_MAX_ATTEMPTS", 3),
            deadline_seconds=_seconds(env, "DASHBOARD_DEADLINE_SECONDS", 4.0),
        )

    @classmethod
    def from_env(cls, overrides: Mapping[str, Any] | None = None) -> Settings:
        return cls.from_mapping({**os.environ, **(overrides or {})})
