"""/status and /healthz: every panel, each failing on its own, and the health check's two answers."""
import html
import json
import re

from dashboard.app import create_app
from tests.conftest import settings_for, stub_error, stubbed_status_page
from tests.pages import error_message, fact, findings


def panel(page: str, name: str) -> str:
    """The HTML of one status panel (data-panel)."""
    match = re.search(rf'<section[^>]*\sdata-panel="{name}">(.*?)</section>', page, re.S)
    assert match, f"the status page has no {name} panel"
    return match.group(1)


def autoscaling_rows(page: str) -> list[list[str]]:
    """The cells of the rendered auto-scaling table, row by row."""
    panel = re.search(r"<h3>Auto-scaling</h3>(.*?)</section>", page, re.S)
    assert panel, "the capacity panel has an auto-scaling part"
    return [[html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", panel.group(1), re.S) if "<td>" in row]


def test_status_page_shows_every_panel(client, table):
    page = client.get("/status").get_data(as_text=True)
    for name in ("table", "capacity", "indexes", "pitr", "protection"):
        assert "data-unavailable" not in panel(page, name), name
    assert fact(page, "table-status") == "ACTIVE" and fact(page, "item-count") == "≈ 0"
    assert "six hours" in panel(page, "table")  # item count and size say how fresh they are
    assert fact(page, "billing-mode") == "On-demand (PAY_PER_REQUEST)"
    assert fact(page, 'index="timestamp-index"').startswith("timestamp-index ACTIVE timestamp (hash) ALL")
    assert fact(page, "pitr-status") == "ENABLED"
    assert re.search(r'<dt>Earliest restorable</dt><dd><time datetime="[^"]+">', panel(page, "pitr"))
    assert fact(page, "sse").startswith("ENABLED") and fact(page, "ttl") == "DISABLED"
    raw = re.search(r'<details class="raw-toggle">\s*<summary>Raw DescribeTable</summary>.*?<code>(.*?)</code>',
                    page, re.S)
    assert raw, "the status page shows the raw DescribeTable answer"
    assert json.loads(html.unescape(raw.group(1)))["TableName"] == table.name


def test_pitr_off_is_flagged(client, table):
    table.clients.dynamodb.update_continuous_backups(
        TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    page = client.get("/status").get_data(as_text=True)
    assert fact(page, "pitr-status") == "DISABLED"
    assert findings(page) == [
        ("warn", "Point-in-time recovery is off: the table cannot be restored to a recent second")]


def test_provisioned_table_shows_capacity_and_autoscaling(mocked_aws):
    import boto3
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="prov-events", BillingMode="PROVISIONED",
        AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3})
    scaling = boto3.client("application-autoscaling")
    scaling.register_scalable_target(ServiceNamespace="dynamodb", ResourceId="table/prov-events",
                                     ScalableDimension="dynamodb:table:ReadCapacityUnits",
                                     MinCapacity=5, MaxCapacity=50)
    app = create_app(settings_for("prov-events"))
    page = app.test_client().get("/status").get_data(as_text=True)
    assert fact(page, "billing-mode") == "Provisioned"
    assert "<dt>Read capacity</dt><dd>5 RCU</dd>" in page and "<dt>Write capacity</dt><dd>3 WCU</dd>" in page
    assert autoscaling_rows(page) == [["table/prov-events", "ReadCapacityUnits", "5", "50", "—"]]
    data = app.test_client().get("/api/status").get_json()
    assert data["billing_mode"] == "PROVISIONED" and data["read_capacity"] == 5 and data["write_capacity"] == 3


def test_a_denied_panel_says_so_and_the_rest_still_renders(client, table):
    page = stubbed_status_page(client, table, refuse={"describe_continuous_backups": "AccessDeniedException"})
    # The page's footnote names DescribeContinuousBackups anyway: the refusal must stand in the PITR panel.
    assert fact(panel(page, "pitr"), 'unavailable="denied"').endswith(
        "DynamoDB refused access to DescribeContinuousBackups (AccessDeniedException)")
    assert fact(page, "table-status") == "ACTIVE" and fact(page, "ttl") == "DISABLED"


def test_describe_table_denied_still_renders_the_other_panels(client, table):
    page = stubbed_status_page(client, table, ttl="ENABLED", ttl_attribute="expires",
                               refuse={"describe_table": "AccessDeniedException"})
    assert fact(panel(page, "table"), 'unavailable="denied"').endswith(
        "DynamoDB refused access to DescribeTable (AccessDeniedException)")
    assert fact(page, "ttl") == "ENABLED on expires" and fact(page, "pitr-status") == "ENABLED"


def test_healthz_is_200_when_the_table_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_healthz_and_pages_are_503_when_the_table_is_missing(mocked_aws):
    app = create_app(settings_for("missing-events"))
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    for url in ("/events", "/status", "/events/x", "/api/events"):
        response = client.get(url)
        assert response.status_code == 503, url
        # Every page names the table in its header: the error message itself must say it is missing.
        said = response.get_json()["message"] if response.is_json else error_message(response.get_data(as_text=True))
        assert said == "table missing-events was not found (ResourceNotFoundException)", url
        assert response.headers["Retry-After"]


def test_a_dead_backend_is_503_with_a_clear_message_not_a_traceback(offline_client):
    response = offline_client.get("/events")
    text = response.get_data(as_text=True)
    assert response.status_code == 503 and "Traceback" not in text
    # The kind of failure, never the endpoint's address: the log keeps that.
    assert error_message(text) == "DynamoDB did not answer (EndpointConnectionError)"
    assert offline_client.get("/healthz").status_code == 503


def test_throttling_is_503(client, table):
    with stub_error(table, "scan", "ProvisionedThroughputExceededException"):
        response = client.get("/events")
    assert response.status_code == 503
    assert error_message(response.get_data(as_text=True)) == \
        "DynamoDB is throttling requests (ProvisionedThroughputExceededException); try again in a moment"


def test_an_on_demand_table_lists_no_autoscaling_targets(client):
    page = client.get("/status").get_data(as_text=True)
    assert autoscaling_rows(page) == []
    assert 'data-autoscaling="none"' in page and "Not needed: on-demand tables scale by themselves." in page
