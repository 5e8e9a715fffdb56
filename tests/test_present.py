"""present.py: formatting for people, never more precise or less exact than what is stored."""
import pytest

from dashboard.formats import present


@pytest.mark.parametrize("timestamp,processed_at,shown", [
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "< 1 s"),
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:02Z", "2 s"),
    ("2024-01-01T00:00:00Z", "2024-01-01T00:03:05Z", "3 min 5 s"),
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.250Z", "250 ms"),
    ("2024-01-01T00:00:00.100Z", "2024-01-01T00:00:01.600Z", "1.5 s"),
    ("2024-01-01T00:00:05Z", "2024-01-01T00:00:00Z", "-5 s"),
    ("2024-01-01T00:00:00Z", None, ""),
])
def test_lag_is_never_more_precise_than_the_stored_timestamps(timestamp, processed_at, shown):
    assert present.lag({"timestamp": timestamp, "processed_at": processed_at}) == shown


def test_a_list_row_of_whole_second_timestamps_shows_no_milliseconds(client, table):
    from tests.conftest import put_items
    put_items(table, [{"event_id": "same-second", "timestamp": "2024-01-01T00:00:00Z",
                       "processed_at": "2024-01-01T00:00:00Z"}])
    page = client.get("/events").get_data(as_text=True)
    assert "&lt; 1 s" in page and " ms<" not in page


def test_an_arn_breaks_only_after_its_separators_and_stays_escaped():
    shown = present.breakable("arn:aws:dynamodb:eu-west-1:123:table/<x>&y")
    assert str(shown) == "arn:<wbr>aws:<wbr>dynamodb:<wbr>eu-west-1:<wbr>123:<wbr>table/<wbr>&lt;x&gt;&amp;y"
