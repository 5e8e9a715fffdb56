"""Links out to the AWS console: built for the environment's region, only from what names an S3 object."""
from __future__ import annotations

import pytest

from dashboard.web import console
from tests.conftest import put_items


def test_an_s3_event_links_to_its_object_in_the_region():
    url = console.s3_object("eu-west-1", {"source": "my-bucket", "key": "path/to/file 1.txt"})
    assert url == ("https://eu-west-1.console.aws.amazon.com/s3/object/my-bucket?region=eu-west-1&bucketType=general"
                   "&prefix=path%2Fto%2Ffile%201.txt")


@pytest.mark.parametrize("values", [
    {"source": "my-bucket"}, {"key": "a.txt"}, {"source": "Not_A_Bucket", "key": "a"},
    {"source": "my-bucket", "key": ""}, {"source": "my-bucket", "key": 12}, {"source": "aws.lambda/x", "key": "a"},
])
def test_no_object_link_when_source_and_key_name_no_object(values):
    assert console.s3_object("eu-west-1", values) is None


def test_no_link_without_a_real_region():
    assert console.table(None, "t") is None and console.metrics("eu-west-1/../x", "t") is None
    assert console.s3_object("", {"source": "my-bucket", "key": "a"}) is None


def test_table_and_metrics_links_name_the_table_in_its_region():
    assert console.table("ap-southeast-2", "shop-prod-events") == (
        "https://ap-southeast-2.console.aws.amazon.com/dynamodbv2/home?region=ap-southeast-2#table?name=shop-prod-events")
    metrics = console.metrics("ap-southeast-2", "shop-prod-events") or ""
    assert "region=ap-southeast-2" in metrics and "namespace=AWS/DynamoDB" in metrics
    assert "search=shop-prod-events" in metrics


def test_event_and_status_pages_link_out_in_the_tables_region(client, table):
    put_items(table, [{"event_id": "s3-1", "timestamp": "2024-01-01T00:00:00Z", "event_type": "s3",
                       "source": "my-bucket", "key": "in/a.txt"},
                      {"event_id": "api-1", "timestamp": "2024-01-01T00:00:00Z", "event_type": "api"}])
    page = client.get("/events/s3-1").get_data(as_text=True)
    assert 'data-console="s3-object"' in page and "us-east-1.console.aws.amazon.com/s3/object/my-bucket" in page
    assert "data-console" not in client.get("/events/api-1").get_data(as_text=True)
    status = client.get("/status").get_data(as_text=True)
    assert f"#table?name={table.name}" in status and 'data-console="metrics"' in status
