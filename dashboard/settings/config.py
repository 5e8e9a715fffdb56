"""One Settings object read from the environment, validated once at start-up."""
from __future__ import annotations

import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import envconfig
from .errors import ConfigError as ConfigError, check_table_name as check_table_name
from .time_index import TimeIndexConfig, parse as parse_time_index

DEFAULT_TABLE = "devops-studio-dev-events"
# The region a DynamoDB stand-in is asked in when nothing names one (moto keeps tables per region).
LOCAL_REGION = "us-east-1"
# An HTTP header name (RFC 9110 token), for DASHBOARD_AUTH_HEADER.
_HEADER_NAME = re.compile(r"\A[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}\Z")
# werkzeug's generate_password_hash: method$salt$hash, such as scrypt:32768:8:1$...$... or pbkdf2:sha256:...
_PASSWORD_HASH = re.compile(r"\A(scrypt|pbkdf2)(:[A-Za-z0-9]+)*\$[^$\s]+\$[0-9a-f]+\Z")
# SECRET_KEY must be hard to guess: the character counts of the key, taken as a sample, carry at least this much.
MIN_SECRET_BITS = 48
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
CANONICAL_CHOICES = ("auto", "yes", "no")
# S3's rule for bucket names (the export to S3 writes into one).
_BUCKET_NAME = re.compile(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


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


def secret_bits(key: str) -> float:
    """A rough estimate of a key's entropy: its length times the Shannon entropy of its characters."""
    counts = Counter(key)
    return -sum(count * math.log2(count / len(key)) for count in counts.values()) if key else 0.0


def _secret_key(env: Mapping[str, Any], local: bool) -> str:
    secret_key = str(env.get("SECRET_KEY") or "")
    if not secret_key and local:
        # The embedded local server only: a fresh key per start is fine, nothing outlives the process.
        return secrets.token_hex(32)
    if not secret_key:
        raise ConfigError(
            "SECRET_KEY is not set: it signs sessions, CSRF tokens and page cursors. "
            "Set it to a long random value (python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    if len(secret_key) < 16 or secret_bits(secret_key) < MIN_SECRET_BITS:
        raise ConfigError("SECRET_KEY is too short or too predictable: use at least 16 random characters "
                          "(python -c 'import secrets; print(secrets.token_hex(32))')")
    return secret_key


def _users(env: Mapping[str, Any]) -> dict[str, str]:
    """DASHBOARD_USERS="name:HASH,name2:HASH2" with werkzeug password hashes (`flask hash-password`)."""
    users: dict[str, str] = {}
    for entry in str(env.get("DASHBOARD_USERS") or "").split(","):
        if not entry.strip():
            continue
        name, _, password_hash = entry.strip().partition(":")
        if not name or not _PASSWORD_HASH.match(password_hash):
            raise ConfigError(f"DASHBOARD_USERS entry for {name or '(no name)'!r} must be name:HASH with HASH "
                              "from `flask hash-password` (werkzeug's generate_password_hash)")
        users[name] = password_hash
    return users


def _auth(env: Mapping[str, Any], local: bool) -> tuple[str, dict[str, str], str | None]:
    """(mode, users, header): how a request proves who makes it; refused when nothing was chosen."""
    users = _users(env)
    header = str(env.get("DASHBOARD_AUTH_HEADER") or "").strip() or None
    switch = str(env.get("DASHBOARD_AUTH") or "").strip().lower()
    if switch not in ("", "off"):
        raise ConfigError(f"DASHBOARD_AUTH may only be 'off' (run open, on purpose), not {switch!r}")
    if header is not None and not _HEADER_NAME.match(header):
        raise ConfigError(f"DASHBOARD_AUTH_HEADER must be an HTTP header name, not {header!r}")
    chosen = [mode for mode, on in (("basic", users), ("header", header), ("off", switch == "off")) if on]
    if len(chosen) > 1:
        raise ConfigError("set only one of DASHBOARD_USERS, DASHBOARD_AUTH_HEADER and DASHBOARD_AUTH=off")
    if chosen:
        return chosen[0], users, header
    if local:
        return "local", {}, None
    raise ConfigError(
        "no sign-in is configured, and the dashboard shows and writes production data: set DASHBOARD_USERS "
        "(HTTP Basic users; `flask hash-password` makes a hash), DASHBOARD_AUTH_HEADER (the identity header of "
        "the SSO proxy in front), or DASHBOARD_AUTH=off to run open on purpose"
    )


def _seconds(env: Mapping[str, Any], name: str, default: float) -> float:
    return float(_bounded(env, name, default, float, 0.1, 300, "a number of seconds"))


def _attempts(env: Mapping[str, Any], name: str, default: int) -> int:
    return int(_bounded(env, name, default, int, 1, 10, "a whole number"))


def _choice(env: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = str(env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {env.get(name)!r}")
    return value


def _bucket(env: Mapping[str, Any]) -> str | None:
    bucket = str(env.get("EXPORT_S3_BUCKET") or "").strip()
    if bucket and not _BUCKET_NAME.match(bucket):
        raise ConfigError(f"EXPORT_S3_BUCKET must be an S3 bucket name (3-63 lower-case letters, digits, '.', '-'), "
                          f"not {bucket!r}")
    return bucket or None


def _prefix(env: Mapping[str, Any]) -> str:
    prefix = str(env.get("EXPORT_S3_PREFIX") or "").strip().strip("/")
    if len(prefix.encode()) > 1024 or any(ord(char) < 32 for char in prefix):
        raise ConfigError("EXPORT_S3_PREFIX must be an S3 key prefix of at most 1024 bytes without control characters")
    return prefix


@dataclass(frozen=True)
class Settings:
    table_name: str
    secret_key: str
    read_only: bool = False
    # The embedded moto server started by `make run` (dashboard.local passes local=True; no variable can):
    # shows the local-data banner, and alone may run without SECRET_KEY and sign-in.
    local_mode: bool = False
    # How requests are signed in: "basic" (users), "header" (auth_header from an SSO proxy), "off" or "local".
    auth_mode: str = "off"
    users: dict[str, str] = field(default_factory=dict, repr=False)
    auth_header: str | None = None
    # How many proxies in front set X-Forwarded-*: 0 trusts none; more also marks the session cookie Secure.
    trust_proxy: int = 0
    # Where DynamoDB answers when it is not AWS: boto3's own variables, read here too so that
    # create_app(config) can point one app at a test endpoint without touching os.environ.
    dynamodb_endpoint: str | None = None
    # A DynamoDB stand-in (moto, DynamoDB Local) is asked about auto-scaling too, rather than
    # real AWS with the stand-in's credentials; one that lacks the API says so on /status.
    autoscaling_endpoint: str | None = None
    # CloudWatch (the status page's metrics) is asked the same way: its own variable, else the stand-in.
    cloudwatch_endpoint: str | None = None
    region: str | None = None
    # An AWS profile of its own (an environment's `profile`); None: boto3's own chain (AWS_PROFILE included).
    profile: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    max_attempts: int = 3
    # The most the status page waits on CloudWatch (one attempt, no retries): metrics are a nice-to-have.
    cloudwatch_timeout: float = 3.0
    # Whether every stored timestamp is a whole second in the canonical form, which one-Query-per-second
    # range reads need: "auto" checks a sample of the table once per process.
    timestamps_canonical: str = "auto"
    # What one filtered or range page may spend before it stops and offers Continue.
    read_budget_seconds: float = 3.0
    read_budget_rcu: float = 2000.0
    # Range and second totals (store/counts.py): a second older than counts_settled_seconds keeps its count
    # for counts_cache_seconds, in a per-process LRU of counts_cache_size seconds.
    counts_cache_seconds: float = 60.0
    counts_settled_seconds: float = 300.0
    counts_cache_size: int = 100_000
    # One deadline per request over all its DynamoDB calls and their retries (store/deadline.py).
    deadline_seconds: float = 4.0
    # The most items one CSV or JSON Lines download holds; past it, DynamoDB's own export to S3 (below).
    export_max_items: int = 100_000
    # Where the status page's "Export to S3" writes (ExportTableToPointInTime); None: not offered.
    export_s3_bucket: str | None = None
    export_s3_prefix: str = ""
    # Live tail (dashboard/questions/tail.py): how often it polls, how old a second must be before it is read
    # (late writes and index propagation), and how long it runs before it stops and offers to resume.
    tail_interval_seconds: float = 5.0
    tail_settle_seconds: int = 5
    tail_max_minutes: float = 10.0
    # The optional time-sorted index (settings/time_index.py): None reads ranges through timestamp-index alone.
    time_index: TimeIndexConfig | None = None
    # DASHBOARD_CONFIG or PROJECT + ENVIRONMENTS (envconfig.py); () serves EVENTS_TABLE at today's URLs.
    environments: tuple[Environment, ...] = ()

    @classmethod
    def from_mapping(cls, env: Mapping[str, Any], local: bool = False) -> Settings:
        table_name = str(env.get("EVENTS_TABLE") or DEFAULT_TABLE).strip()
        check_table_name(table_name, "EVENTS_TABLE")
        secret_key = _secret_key(env, local)
        auth_mode, users, auth_header = _auth(env, local)
        settings = cls(
            table_name=table_name,
            secret_key=secret_key,
            read_only=_flag(env, "DASHBOARD_READ_ONLY"),
            local_mode=local,
            auth_mode=auth_mode,
            users=users,
            auth_header=auth_header,
            trust_proxy=_bounded(env, "TRUST_PROXY", 0, int, 0, 5, "a whole number of proxies"),
            dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL") or None,
            autoscaling_endpoint=(env.get("AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING") or env.get("AWS_ENDPOINT_URL")
                                  or env.get("AWS_ENDPOINT_URL_DYNAMODB") or None),
            cloudwatch_endpoint=(env.get("AWS_ENDPOINT_URL_CLOUDWATCH") or env.get("AWS_ENDPOINT_URL")
                                 or env.get("AWS_ENDPOINT_URL_DYNAMODB") or None),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            connect_timeout=_seconds(env, "DYNAMODB_CONNECT_TIMEOUT", 3.0),
            read_timeout=_seconds(env, "DYNAMODB_READ_TIMEOUT", 5.0),
            max_attempts=_attempts(env, "DYNAMODB_MAX_ATTEMPTS", 3),
            cloudwatch_timeout=_seconds(env, "CLOUDWATCH_TIMEOUT", 3.0),
            timestamps_canonical=_choice(env, "TIMESTAMPS_CANONICAL", CANONICAL_CHOICES),
            read_budget_seconds=_seconds(env, "READ_BUDGET_SECONDS", 3.0),
            read_budget_rcu=_bounded(env, "READ_BUDGET_RCU", 2000.0, float, 0.5, 1_000_000, "a number of RCUs"),
            deadline_seconds=_seconds(env, "DASHBOARD_DEADLINE_SECONDS", 4.0),
            counts_cache_seconds=_bounded(env, "COUNTS_CACHE_SECONDS", 60.0, float, 0, 86400, "a number of seconds"),
            counts_settled_seconds=_bounded(env, "COUNTS_SETTLED_SECONDS", 300.0, float, 0, 86400,
                                            "a number of seconds"),
            counts_cache_size=_bounded(env, "COUNTS_CACHE_SIZE", 100_000, int, 0, 10_000_000, "a whole number"),
            export_max_items=_bounded(env, "EXPORT_MAX_ITEMS", 100_000, int, 1, 10_000_000, "a whole number of items"),
            export_s3_bucket=_bucket(env),
            export_s3_prefix=_prefix(env),
            tail_interval_seconds=_bounded(env, "TAIL_INTERVAL_SECONDS", 5.0, float, 0.5, 60, "a number of seconds"),
            tail_settle_seconds=_bounded(env, "TAIL_SETTLE_SECONDS", 5, int, 0, 60, "a whole number of seconds"),
            tail_max_minutes=_bounded(env, "TAIL_MAX_MINUTES", 10.0, float, 0.01, 1440, "a number of minutes"),
            time_index=parse_time_index(env.get("TIME_INDEX"), env.get("TIME_INDEX_BUCKET"),
                                        env.get("TIME_INDEX_SHARDS"),
                                        ("TIME_INDEX", "TIME_INDEX_BUCKET", "TIME_INDEX_SHARDS")),
        )
        return replace(settings, environments=envconfig.parse(env, settings))

    @classmethod
    def from_env(cls, overrides: Mapping[str, Any] | None = None, local: bool = False) -> Settings:
        return cls.from_mapping({**os.environ, **(overrides or {})}, local)


# One environment of this dashboard: its name, its Settings and its write lock (envconfig.py reads them).
Environment = envconfig.Environment[Settings]
