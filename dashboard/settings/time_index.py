"""The optional time-sorted index's configuration (TIME_INDEX, TIME_INDEX_BUCKET, TIME_INDEX_SHARDS), checked once."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

BUCKETS = ("day", "hour")
DEFAULT_NAME = "time-index"
DEFAULT_BUCKET = "day"
DEFAULT_SHARDS = 4
# Each shard of a bucket is one partition (about 1,000 writes a second); a window costs a Query per shard and
# bucket, so more than this many shards is a mistake rather than a plan.
MAX_SHARDS = 100
# DynamoDB's own rule for index names.
_INDEX_NAME = re.compile(r"\A[A-Za-z0-9_.-]{3,255}\Z")


@dataclass(frozen=True)
class TimeIndexConfig:
    """A global secondary index keyed `time_bucket` (bucket#shard) and sorted by `timestamp`."""

    name: str = DEFAULT_NAME
    bucket: str = DEFAULT_BUCKET  # "day": YYYY-MM-DD#shard; "hour": YYYY-MM-DDTHH#shard
    shards: int = DEFAULT_SHARDS


def parse(name: Any, bucket: Any, shards: Any, names: tuple[str, str, str]) -> TimeIndexConfig | None:
    """The index as configured, or None when no name is set; `names` are the settings' names, for messages."""
    name_key, bucket_key, shards_key = names
    index_name = str(name or "").strip()
    if not index_name:
        if str(bucket or "").strip() or str(shards if shards is not None else "").strip():
            raise ConfigError(f"{bucket_key} and {shards_key} describe the time index: set {name_key} "
                              f"(its name, such as {DEFAULT_NAME}) too, or neither")
        return None
    if not _INDEX_NAME.match(index_name):
        raise ConfigError(f"{name_key} {index_name!r} is not a DynamoDB index name "
                          "(3-255 characters: letters, digits, '_', '-', '.')")
    bucket_size = str(bucket or "").strip() or DEFAULT_BUCKET
    if bucket_size not in BUCKETS:
        raise ConfigError(f"{bucket_key} must be day or hour (the time bucket of the index's key), not {bucket!r}")
    return TimeIndexConfig(index_name, bucket_size, _shards(shards, shards_key))


def _shards(raw: Any, key: str) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_SHARDS
    if isinstance(raw, bool):
        raise ConfigError(f"{key} must be a whole number of shards from 1 to {MAX_SHARDS}, not {raw!r}")
    try:
        count = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{key} must be a whole number of shards from 1 to {MAX_SHARDS}, not {raw!r}") from None
    if not 1 <= count <= MAX_SHARDS:
        raise ConfigError(f"{key} must be a whole number of shards from 1 to {MAX_SHARDS}, not {raw!r}")
    return count
