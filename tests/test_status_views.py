"""/status and /healthz: every panel, each failing on its own, and the health check's two answers."""
import html
import re

from botocore.stub import Stubber

from dashboard import create_app
from dashboard.store import Table
from tests.conftest import answer, settings_for


def autoscaling_rows(page: str) -> list[list[str]]:
    """The cells of the rendered auto-scaling table, row by row."""
    panel = re.search(r"<h3>Auto-scaling</h3>(.*?)</section>", page, re.S)
    assert panel, "the capacity panel has an auto-scaling part"
    return [[html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", panel.group(1), re.S) if "<td>" in row]


def test_status_page_shows_every_panel(client, table):
    page = client.get("/status").get_data(as_text=True)
    for panel in ("table", "capacity", "indexes", "pitr", "protection"):
        assert f'data-panel="{panel}"' in page
    assert "timestamp-index" in page and "PAY_PER_REQUEST" in page and "ENABLED" in page
    assert "six hours" in page  # item count and size say how fresh they are
    assert "Raw DescribeTable" in page and "Earliest restorable" in page


def test_pitr_off_is_flagged(client, table):
    table.clients.dynamodb.update_continuous_backups(
        TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    page = client.get("/status").get_data(as_text=True)
    assert "Point-in-time recovery is off" in page and "finding-warn" in page


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
                                     ScalableDimension="dynamodb:table:ReadCapacityUnits", MinCapacity=5, MaxCapacity=50)
    app = create_app(settings_for("prov-events"))
    page = app.test_client().get("/status").get_data(as_text=True)
    assert "5 RCU" in page and "3 WCU" in page
    assert autoscaling_rows(page) == [["table/prov-events", "ReadCapacityUnits", "5", "50", "—"]]
    data = app.test_client().get("/api/status").get_json()
    assert data["billing_mode"] == "PROVISIONED" and data["read_capacity"] == 5 and data["write_capacity"] == 3


def test_a_denied_panel_says_so_and_the_rest_still_renders(app, table):
    dynamodb = table.clients.dynamodb
    answer(dynamodb, "DescribeTable", {"Table": {
        "TableName": table.name, "TableStatus": "ACTIVE",
        "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}}})
    answer(dynamodb, "DescribeContinuousBackups", error="AccessDeniedException")
    answer(dynamodb, "DescribeTimeToLive", {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})
    response = app.test_client().get("/status")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-unavailable="denied"' in page and "DescribeContinuousBackups" in page
    assert "ACTIVE" in page


def test_describe_table_denied_still_renders_the_other_panels(app, table):
    dynamodb = table.clients.dynamodb
    answer(dynamodb, "DescribeTable", error="AccessDeniedException")
    answer(dynamodb, "DescribeContinuousBackups", {"ContinuousBackupsDescription": {
        "ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}}})
    answer(dynamodb, "DescribeTimeToLive", {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}})
    response = app.test_client().get("/status")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-unavailable="denied"' in page and "expires" in page
    assert 'data-pitr-status' in page


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
        assert "missing-events" in response.get_data(as_text=True)
        assert response.headers["Retry-After"]


def test_a_dead_backend_is_503_with_a_clear_message_not_a_traceback(mocked_aws):
    table = Table.open(settings_for("t-events", "http://127.0.0.1:9", DYNAMODB_MAX_ATTEMPTS=1))
    app = create_app(settings_for("t-events"), table=table)
    response = app.test_client().get("/events")
    text = response.get_data(as_text=True)
    assert response.status_code == 503 and "did not answer" in text and "Traceback" not in text
    assert app.test_client().get("/healthz").status_code == 503


def test_throttling_is_503(app, table):
    stubber = Stubber(table.clients.dynamodb)
    stubber.add_client_error("scan", "ProvisionedThroughputExceededException", "slow down")
    with stubber:
        response = app.test_client().get("/events")
    assert response.status_code == 503 and "throttling" in response.get_data(as_text=True)


def test_an_on_demand_table_lists_no_autoscaling_targets(client):
    page = client.get("/status").get_data(as_text=True)
    assert autoscaling_rows(page) == []
    assert 'data-autoscaling="none"' in page and "Not needed: on-demand tables scale by themselves." in page
