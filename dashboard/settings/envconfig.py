"""Several environments in one dashboard (dev, staging, prod): read from DASHBOARD_CONFIG or PROJECT + ENVIRONMENTS.

Each environment is one table with its own region, profile and endpoint, and the first segment of
its URLs. Without either setting there are none, and EVENTS_TABLE is served at today's URLs.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from .errors import ConfigError, check_table_name
from .time_index import TimeIndexConfig, parse as parse_time_index


class TableSettings(Protocol):
    """What an environment's definition reads and replaces of the dashboard's Settings (config.py), which hold
    the environments in turn: typed by this protocol, this module never imports config."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def table_name(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def profile(self) -> str | None: ...
    @property
    def dynamodb_endpoint(self) -> str | None: ...
    @property
    def autoscaling_endpoint(self) -> str | None: ...
    @property
    def cloudwatch_endpoint(self) -> str | None: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def time_index(self) -> TimeIndexConfig | None: ...


SettingsT = TypeVar("SettingsT", bound=TableSettings)

# The first segment of an environment's URLs: short, lower case, never one of the paths served at the root.
_NAME = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,31}\Z")
RESERVED_NAMES = frozenset({"static", "healthz", "api", "events", "status", "go"})
# Named so, an environment made from PROJECT + ENVIRONMENTS is production.
PRODUCTION_NAMES = frozenset({"prod", "production"})
# Every key an [environments.NAME] table may hold, and the type of its value.
KEYS: dict[str, type] = {"table": str, "region": str, "profile": str, "endpoint": str, "production": bool,
                         "writes": bool, "time_index": str, "time_index_bucket": str, "time_index_shards": int}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "a whole number"}
_ENDPOINT = re.compile(r"\Ahttps?://[^\s/]+(/\S*)?\Z")


@dataclass(frozen=True)
class Environment(Generic[SettingsT]):
    """One table the dashboard serves, under /<name>/...; the single table of EVENTS_TABLE has the name ""."""

    name: str
    settings: SettingsT  # its table, region, profile and endpoints; read_only where writes are off
    production: bool = False  # a red band and favicon; writes off unless `writes = true`
    writes: bool = True

    @property
    def locked(self) -> bool:
        """Writes are refused here (a production environment, unless its configuration allows them)."""
        return not self.writes

    @property
    def confirm_writes(self) -> bool:
        """A production environment that allows writes asks to type its name before each one."""
        return self.production and self.writes


def _check_name(name: str, where: str) -> None:
    if not _NAME.match(name):
        raise ConfigError(f"{where}: environment name {name!r} cannot be a URL segment: use 1-32 lower-case "
                            "letters, digits, '-' or '_', starting with a letter or digit")
    if name in RESERVED_NAMES:
        raise ConfigError(f"{where}: environment name {name!r} is a path the dashboard serves itself: "
                            "choose another name")


def _environment(base: SettingsT, name: str, table: str, *, region: str | None = None, profile: str | None = None,
                 endpoint: str | None = None, production: bool = False, writes: bool | None = None,
                 index: TimeIndexConfig | None = None) -> Environment[SettingsT]:
    allowed = (not production) if writes is None else writes
    return Environment(name, replace(
        base, table_name=table, region=region or base.region, profile=profile or base.profile,
        dynamodb_endpoint=endpoint or base.dynamodb_endpoint,
        autoscaling_endpoint=endpoint or base.autoscaling_endpoint,
        cloudwatch_endpoint=endpoint or base.cloudwatch_endpoint,
        read_only=base.read_only or not allowed, time_index=index or base.time_index, environments=()),
        production, allowed)


def _from_table(base: SettingsT, path: str, name: str, values: Any) -> Environment[SettingsT]:
    where = f"{path}: environments.{name}"
    _check_name(name, f"{path}: [environments.{name}]")
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a table ([environments.{name}]) with at least `table = \"...\"`")
    for key, value in values.items():
        if key not in KEYS:
            raise ConfigError(f"{where}.{key} is not a known key (known: {', '.join(KEYS)})")
        if not isinstance(value, KEYS[key]) or (KEYS[key] is int and isinstance(value, bool)):
            raise ConfigError(f"{where}.{key} must be {_TYPE_NAMES[KEYS[key]]}, not {value!r}")
    if "table" not in values:
        raise ConfigError(f"{where}.table is missing: name the DynamoDB table of this environment")
    check_table_name(values["table"], f"{where}.table")
    endpoint = values.get("endpoint")
    if endpoint is not None and not _ENDPOINT.match(endpoint):
        raise ConfigError(f"{where}.endpoint must be an http:// or https:// URL, not {endpoint!r}")
    index = parse_time_index(values.get("time_index"), values.get("time_index_bucket"), values.get("time_index_shards"),
                             (f"{where}.time_index", f"{where}.time_index_bucket", f"{where}.time_index_shards"))
    return _environment(base, name, values["table"], region=values.get("region") or None,
                        profile=values.get("profile") or None, endpoint=endpoint,
                        production=values.get("production", False), writes=values.get("writes"), index=index)


def _from_file(base: SettingsT, path: str) -> tuple[Environment[SettingsT], ...]:
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise ConfigError(f"DASHBOARD_CONFIG {path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"DASHBOARD_CONFIG {path}: not valid TOML ({error})") from None
    for key in data:
        if key != "environments":
            raise ConfigError(f"{path}: {key} is not a known key (only [environments.NAME] tables)")
    environments = data.get("environments")
    if not isinstance(environments, dict) or not environments:
        raise ConfigError(f"{path}: environments is missing: add one [environments.NAME] table per environment")
    found = tuple(_from_table(base, path, name, values) for name, values in environments.items())
    seen: dict[tuple[str | None, ...], str] = {}
    for environment in found:
        where = environment.settings
        place = (where.table_name, where.region, where.dynamodb_endpoint, where.profile)
        if place in seen:
            # A copied block that still names the other environment's table: never two names for one table.
            raise ConfigError(f"{path}: environments.{environment.name}.table names the same table as "
                                f"environments.{seen[place]} (same region, endpoint and profile)")
        seen[place] = environment.name
    return found


def _from_pattern(base: SettingsT, project: str, names: str) -> tuple[Environment[SettingsT], ...]:
    listed = [name.strip() for name in names.split(",") if name.strip()]
    if not project or not listed:
        raise ConfigError("PROJECT and ENVIRONMENTS go together: PROJECT=devops-studio ENVIRONMENTS=dev,staging,prod")
    found: list[Environment[SettingsT]] = []
    for name in listed:
        _check_name(name, "ENVIRONMENTS")
        if name in (environment.name for environment in found):
            raise ConfigError(f"ENVIRONMENTS: {name!r} is listed twice")
        table = f"{project}-{name}-events"
        check_table_name(table, f"PROJECT {project!r} with environment {name!r}")
        found.append(_environment(base, name, table, production=name in PRODUCTION_NAMES))
    return tuple(found)


def parse(env: Mapping[str, Any], base: SettingsT) -> tuple[Environment[SettingsT], ...]:
    """The configured environments, in the order they are shown; () when only EVENTS_TABLE is set."""
    path = str(env.get("DASHBOARD_CONFIG") or "").strip()
    project = str(env.get("PROJECT") or "").strip()
    names = str(env.get("ENVIRONMENTS") or "").strip()
    if path and (project or names):
        raise ConfigError("set DASHBOARD_CONFIG, or PROJECT and ENVIRONMENTS, not both")
    if path:
        return _from_file(base, path)
    if project or names:
        return _from_pattern(base, project, names)
    return ()
