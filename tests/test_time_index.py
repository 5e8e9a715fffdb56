"""The time-sorted index's key, buckets and checks (store/time_index.py) and its configuration (settings/time_index)."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, strategies as st

from dashboard.settings.config import ConfigError, Settings
from dashboard.settings.time_index import TimeIndexConfig
from dashboard.store import time_index
from tests.conftest import SECRET

DAY = TimeIndexConfig("time-index", "day", 4)
HOUR = TimeIndexConfig("time-index", "hour", 8)


def settings(**values: str) -> Settings:
    return Settings.from_env({"SECRET_KEY": SECRET, "DASHBOARD_AUTH": "off", **values})


@given(st.text(min_size=1), st.integers(1, 100))
def test_the_shard_is_md5s_first_eight_hex_digits_modulo_n(event_id: str, shards: int) -> None:
    expected = int(hashlib.md5(event_id.encode("utf-8")).hexdigest()[:8], 16) % shards
    assert time_index.shard(event_id, shards) == expected


def test_a_known_key_as_any_writer_computes_it() -> None:
    # md5("s3-abc123") starts 66c2025a: 0x66c2025a % 4 == 2, % 8 == 2
    assert hashlib.md5(b"s3-abc123").hexdigest()[:8] == "66c2025a"
    assert time_index.time_bucket("s3-abc123", "2024-01-01T00:00:00Z", DAY) == "2024-01-01#2"
    assert time_index.time_bucket("s3-abc123", "2024-01-01T23:59:59Z", HOUR) == "2024-01-01T23#2"


def test_the_bucket_is_the_utc_date_of_the_timestamp() -> None:
    # 01:30 at +02:00 is 23:30 UTC the day before.
    assert str(time_index.time_bucket("e", "2024-03-05T01:30:00+02:00", DAY)).startswith("2024-03-04#")


@pytest.mark.parametrize("timestamp", [None, "", "yesterday", 17])
def test_an_event_without_a_time_gets_no_key(timestamp: object) -> None:
    assert time_index.time_bucket("e-1", timestamp, DAY) is None


def test_a_window_over_midnight_touches_both_days_every_shard() -> None:
    start, end = datetime(2024, 1, 1, 23, 50, tzinfo=UTC), datetime(2024, 1, 2, 0, 10, tzinfo=UTC)
    assert time_index.buckets(start, end, DAY) == ["2024-01-01", "2024-01-02"]
    assert time_index.partitions(start, end, DAY) == [f"2024-01-0{day}#{shard}" for day in (1, 2) for shard in range(4)]
    assert time_index.buckets(start, end, HOUR) == ["2024-01-01T23", "2024-01-02T00"]


def test_a_week_is_seven_or_eight_day_buckets() -> None:
    start, end = datetime(2024, 1, 1, 12, tzinfo=UTC), datetime(2024, 1, 8, 11, 59, 59, tzinfo=UTC)
    assert len(time_index.buckets(start, end, DAY)) == 8
    assert len(time_index.partitions(start, end, DAY)) == 32


def described(*indexes: dict) -> dict:
    return {"GlobalSecondaryIndexes": list(indexes)}


def test_the_index_as_created_matches_the_configuration() -> None:
    assert time_index.mismatch(DAY, described({**time_index.index_definition("time-index"),
                                                "IndexStatus": "ACTIVE"})) is None


def test_a_missing_or_different_index_is_said_plainly() -> None:
    assert "has no such index (it has: timestamp-index)" in str(time_index.mismatch(
        DAY, described({"IndexName": "timestamp-index", "KeySchema": []})))
    keyed_wrong = {**time_index.index_definition("time-index"),
                   "KeySchema": [{"AttributeName": "timestamp", "KeyType": "HASH"}]}
    assert "is keyed timestamp/None, not time_bucket/timestamp" in str(time_index.mismatch(DAY, described(keyed_wrong)))
    building = {**time_index.index_definition("time-index"), "IndexStatus": "CREATING"}
    assert "is CREATING" in str(time_index.mismatch(DAY, described(building)))
    keys_only = {**time_index.index_definition("time-index"), "Projection": {"ProjectionType": "KEYS_ONLY"}}
    assert "does not project ALL" in str(time_index.mismatch(DAY, described(keys_only)))


def test_the_configuration_is_read_from_three_variables() -> None:
    assert settings().time_index is None
    assert settings(TIME_INDEX="time-index").time_index == TimeIndexConfig("time-index", "day", 4)
    assert settings(TIME_INDEX="ts-idx", TIME_INDEX_BUCKET="hour", TIME_INDEX_SHARDS="16").time_index == \
        TimeIndexConfig("ts-idx", "hour", 16)


@pytest.mark.parametrize(("values", "message"), [
    ({"TIME_INDEX": "time-index", "TIME_INDEX_BUCKET": "week"}, "TIME_INDEX_BUCKET must be day or hour"),
    ({"TIME_INDEX": "time-index", "TIME_INDEX_SHARDS": "0"}, "TIME_INDEX_SHARDS must be a whole number of shards"),
    ({"TIME_INDEX": "time-index", "TIME_INDEX_SHARDS": "four"}, "TIME_INDEX_SHARDS must be a whole number"),
    ({"TIME_INDEX": "x"}, "is not a DynamoDB index name"),
    ({"TIME_INDEX_SHARDS": "8"}, "set TIME_INDEX"),
])
def test_a_bad_time_index_setting_stops_the_app_with_its_name(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(**values)


def test_each_environment_may_have_its_own_index(tmp_path) -> None:
    config = tmp_path / "dashboard.toml"
    config.write_text('[environments.dev]\ntable = "p-dev-events"\n'
                      '[environments.prod]\ntable = "p-prod-events"\ntime_index = "time-index"\n'
                      'time_index_bucket = "hour"\ntime_index_shards = 8\n')
    dev, prod = settings(DASHBOARD_CONFIG=str(config)).environments
    assert dev.settings.time_index is None
    assert prod.settings.time_index == TimeIndexConfig("time-index", "hour", 8)
    config.write_text('[environments.prod]\ntable = "p-prod-events"\ntime_index = "time-index"\n'
                      'time_index_shards = true\n')
    with pytest.raises(ConfigError, match="time_index_shards must be a whole number"):
        settings(DASHBOARD_CONFIG=str(config))


def test_environments_by_pattern_share_the_variables() -> None:
    found = settings(PROJECT="p", ENVIRONMENTS="dev,prod", TIME_INDEX="time-index").environments
    assert [environment.settings.time_index for environment in found] == [TimeIndexConfig()] * 2


@pytest.mark.parametrize("configured", [True, False], ids=["with-index", "without"])
def test_an_inserted_test_event_gets_its_time_bucket_only_where_the_index_is_configured(table, configured) -> None:
    from dashboard.app import create_app
    from tests.conftest import settings_for
    from tests.test_insert_form import valid_form

    settings = (settings_for(table.name, TIME_INDEX="time-index", TIME_INDEX_SHARDS="8") if configured
                else settings_for(table.name))
    app = create_app(settings, table=table)
    app.config["TESTING"] = True
    client = app.test_client()
    response = client.post("/events", data=valid_form(client, event_id="s3-abc123"))
    assert response.status_code == 303
    stored = table.events.get("s3-abc123").values
    if configured:
        assert stored["time_bucket"] == "2024-01-01#2"  # md5 66c2025a... % 8
    else:
        assert "time_bucket" not in stored
