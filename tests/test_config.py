"""config.py: settings come from the environment and are refused early, with a reason, when they cannot work."""
import pytest

from dashboard.settings.config import ConfigError, Settings

KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
OPEN = {"DASHBOARD_AUTH": "off"}


def test_without_settings_it_reads_and_writes_the_dev_table_with_three_attempts():
    settings = Settings.from_mapping({**OPEN, "SECRET_KEY": KEY})
    assert settings.table_name == "devops-studio-dev-events"
    assert not settings.read_only and not settings.local_mode
    assert settings.max_attempts == 3 and settings.connect_timeout <= 5


def test_secret_key_is_required_outside_local_mode():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_mapping({})
    assert len(Settings.from_mapping({}, local=True).secret_key) >= 32


def test_endpoint_and_table_come_from_boto3s_own_variables():
    settings = Settings.from_mapping({**OPEN, "SECRET_KEY": KEY, "EVENTS_TABLE": "shop-prod-events",
                                      "AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:8000"})
    assert settings.table_name == "shop-prod-events"
    assert settings.dynamodb_endpoint == settings.autoscaling_endpoint == "http://localhost:8000"


@pytest.mark.parametrize("name,value", [
    ("EVENTS_TABLE", "no spaces allowed"), ("EVENTS_TABLE", "ab"), ("DASHBOARD_READ_ONLY", "maybe"),
    ("DYNAMODB_READ_TIMEOUT", "soon"), ("DYNAMODB_MAX_ATTEMPTS", "0"), ("SECRET_KEY", "short"),
    ("CLOUDWATCH_TIMEOUT", "0"), ("CLOUDWATCH_TIMEOUT", "a while"),
])
def test_bad_values_are_refused_with_their_name(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_mapping({**OPEN, "SECRET_KEY": KEY, name: value})


def test_read_only_is_turned_on_by_1_or_true():
    assert Settings.from_mapping({**OPEN, "SECRET_KEY": KEY, "DASHBOARD_READ_ONLY": "1"}).read_only
    assert Settings.from_mapping({**OPEN, "SECRET_KEY": KEY, "DASHBOARD_READ_ONLY": "true"}).read_only


def test_range_settings_have_stated_defaults_and_refuse_nonsense():
    settings = Settings.from_mapping({**OPEN, "SECRET_KEY": KEY})
    assert (settings.timestamps_canonical, settings.read_budget_seconds,
            settings.read_budget_rcu) == ("auto", 3.0, 2000.0)
    tuned = Settings.from_mapping({**OPEN, "SECRET_KEY": KEY, "TIMESTAMPS_CANONICAL": "YES",
                                   "READ_BUDGET_SECONDS": "1.5", "READ_BUDGET_RCU": "100"})
    assert (tuned.timestamps_canonical, tuned.read_budget_seconds, tuned.read_budget_rcu) == ("yes", 1.5, 100.0)
    for name, value in [("TIMESTAMPS_CANONICAL", "maybe"), ("READ_BUDGET_SECONDS", "0"), ("READ_BUDGET_RCU", "lots")]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_mapping({**OPEN, "SECRET_KEY": KEY, name: value})
