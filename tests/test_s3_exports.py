"""Export to S3 from the status page: started once per form, listed with its progress, or told what is missing."""
from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import boto3
import pytest

from dashboard.app import create_app
from dashboard.settings.config import ConfigError
from dashboard.store.s3_exports import S3Export
from tests.conftest import answer, csrf_field, csrf_token, read_calls, seed, settings_for
from tests.pages import fact

BUCKET = "events-exports-test"
TOKEN_FIELD = re.compile(r'name="client_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def bucket(mocked_aws: None) -> str:
    s3: Any = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


def exporting_client(table, **overrides):
    values = {"EXPORT_S3_BUCKET": BUCKET, **overrides}
    return create_app(settings_for(table.name, **values), table=table).test_client()


def export_form(client) -> dict[str, str]:
    """What the status page's export form posts, read from the page as a browser would."""
    page = client.get("/status").get_data(as_text=True)
    token = TOKEN_FIELD.search(page)
    assert token, "the status page offers the export form"
    return {"csrf_token": csrf_field(page), "client_token": token.group(1)}


def finished(table, arn: str) -> S3Export:
    """moto runs an export in a thread of its own: its outcome, once it has one."""
    for _ in range(200):
        export = table.s3_exports.describe_s3(arn)
        if export.status != "IN_PROGRESS":
            return export
        time.sleep(0.05)
    raise AssertionError(f"export {arn} never finished")


def test_the_status_page_offers_the_export_and_starts_it_into_the_configured_bucket(table, bucket):
    seed(table, 30)
    client = exporting_client(table, EXPORT_S3_PREFIX="/dumps/")
    status = client.get("/status").get_data(as_text=True)
    assert fact(status, "export-destination") == f"s3://{BUCKET}/dumps/"
    started = client.post("/status/exports", data=export_form(client))
    assert started.status_code == 303 and started.headers["Location"].endswith("/status#export")
    assert fact(client.get("/status").get_data(as_text=True), "export-started").startswith(
        f"Export to s3://{BUCKET}/dumps/ started")
    [listed] = table.s3_exports.s3_exports().exports
    export = finished(table, listed.arn)
    assert export.status == "COMPLETED" and export.item_count == 30 and export.prefix == "dumps"
    page = client.get("/status/exports").get_data(as_text=True)
    assert fact(page, "export-status") == "COMPLETED" and fact(page, "export-location").replace(" ", "") == f"s3://{BUCKET}/dumps/"
    assert re.search(r'<td class="num">30</td>', page)


def test_without_a_prefix_exports_go_under_the_tables_name(table, bucket):
    client = exporting_client(table)
    assert fact(client.get("/status").get_data(as_text=True), "export-destination") == f"s3://{BUCKET}/{table.name}/"
    assert client.post("/status/exports", data=export_form(client)).status_code == 303
    assert table.s3_exports.s3_exports().exports[0].prefix == table.name


def test_a_double_submit_sends_the_same_client_token_so_dynamodb_starts_one_export(table, bucket):
    client = exporting_client(table)
    sent: list[dict] = []
    table.clients.dynamodb.meta.events.register("provide-client-params.dynamodb.ExportTableToPointInTime",
                                                lambda params, **_: sent.append(dict(params)))
    form = export_form(client)
    for _ in range(2):
        assert client.post("/status/exports", data=form).status_code == 303
    assert [params["ClientToken"] for params in sent] == [form["client_token"]] * 2
    assert {params["ExportFormat"] for params in sent} == {"DYNAMODB_JSON"}
    assert sent[0]["TableArn"].endswith(f":table/{table.name}")
    assert export_form(client)["client_token"] != form["client_token"], "each rendering of the form is a new export"


def test_an_export_into_a_missing_bucket_is_listed_as_failed_with_its_reason(table, mocked_aws):
    client = exporting_client(table)
    assert client.post("/status/exports", data=export_form(client)).status_code == 303
    finished(table, table.s3_exports.s3_exports().exports[0].arn)
    page = client.get("/status/exports").get_data(as_text=True)
    assert fact(page, "export-status") == "FAILED"
    assert fact(page, "export-failure") == "S3NoSuchBucket The specified bucket does not exist"


def test_without_a_bucket_the_panel_says_what_to_set_and_a_post_is_409(table):
    client = create_app(settings_for(table.name), table=table).test_client()
    page = client.get("/status").get_data(as_text=True)
    assert fact(page, "export-missing=\"bucket\"").startswith("off Set EXPORT_S3_BUCKET to enable")
    assert "data-export-form" not in page
    refused = client.post("/status/exports", data={"csrf_token": csrf_token(client), "client_token": "abc"})
    assert refused.status_code == 409
    assert fact(refused.get_data(as_text=True), "export-not-started").startswith(
        "Export not started: set EXPORT_S3_BUCKET")


def test_with_point_in_time_recovery_off_the_panel_and_the_post_say_it_is_needed(table, bucket):
    client = exporting_client(table)
    form = export_form(client)
    table.clients.dynamodb.update_continuous_backups(
        TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    page = client.get("/status").get_data(as_text=True)
    assert "Point-in-time recovery is off" in fact(page, 'export-missing="pitr"') and "data-export-form" not in page
    refused = client.post("/status/exports", data=form)
    assert refused.status_code == 409
    message = fact(refused.get_data(as_text=True), "export-not-started")
    assert message.startswith(f"Export not started: point-in-time recovery is off for table {table.name}")


def test_an_endpoint_without_exports_says_so_never_a_500(table, bucket):
    client = exporting_client(table)
    form = export_form(client)
    for operation in ("ExportTableToPointInTime", "ListExports"):
        answer(table.clients.dynamodb, operation, error="UnknownOperationException", message="dynalite says no")
    refused = client.post("/status/exports", data=form)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "does not support ExportTableToPointInTime (UnknownOperationException)" in fact(text, "export-not-started")
    listed = client.get("/status/exports").get_data(as_text=True)
    assert fact(listed, 'unavailable="unsupported"').startswith("unsupported This DynamoDB endpoint does not offer")
    assert "dynalite says no" not in text + listed


def test_without_permission_the_panel_names_the_missing_actions_never_aws_text(table, bucket):
    client = exporting_client(table)
    form = export_form(client)
    for operation in ("ExportTableToPointInTime", "ListExports"):
        answer(table.clients.dynamodb, operation, error="AccessDeniedException",
               message="User: arn:aws:sts::123:assumed-role/x is not authorized")
    refused = client.post("/status/exports", data=form)
    assert refused.status_code == 403
    message = fact(refused.get_data(as_text=True), "export-not-started")
    assert "refused access to ExportTableToPointInTime (AccessDeniedException)" in message
    assert "dynamodb:ExportTableToPointInTime" in message and "s3:PutObject" in message
    listed = client.get("/status/exports").get_data(as_text=True)
    assert "dynamodb:ListExports" in fact(listed, 'unavailable="denied"')
    assert "assumed-role" not in refused.get_data(as_text=True) + listed


def test_a_backend_that_is_down_answers_the_usual_503(table, bucket):
    client = exporting_client(table, DYNAMODB_MAX_ATTEMPTS=1)
    form = export_form(client)
    answer(table.clients.dynamodb, "ExportTableToPointInTime", error="InternalServerError", status=500)
    answer(table.clients.dynamodb, "ListExports", error="InternalServerError", status=500)
    assert client.post("/status/exports", data=form).status_code == 503
    assert client.get("/status/exports").status_code == 503


def test_read_only_mode_offers_no_export_and_refuses_the_post(table, bucket):
    client = exporting_client(table, DASHBOARD_READ_ONLY="1")
    page = client.get("/status").get_data(as_text=True)
    assert "data-export-form" not in page and "read-only" in fact(page, 'export-missing="read-only"')
    assert client.post("/status/exports", data={"client_token": "abc"}).status_code == 403
    assert table.s3_exports.s3_exports().exports == []


def test_a_post_without_its_csrf_token_or_with_a_bad_client_token_is_400(table, bucket):
    client = exporting_client(table)
    form = export_form(client)
    assert client.post("/status/exports", data={"client_token": form["client_token"]}).status_code == 400
    assert client.post("/status/exports", data={**form, "client_token": "$bad token"}).status_code == 400
    assert table.s3_exports.s3_exports().exports == []


def test_every_export_attempt_leaves_an_audit_line(table, bucket, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.audit")
    client = exporting_client(table)
    client.post("/status/exports", data=export_form(client))
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dashboard.audit"]
    assert line["audit"] == "export" and line["kind"] == "s3" and line["outcome"] == "started"
    assert line["destination"] == f"s3://{BUCKET}/{table.name}/" and line["export_arn"]


def test_the_status_page_makes_no_export_call_and_loads_the_list_on_its_own(table, bucket):
    client = exporting_client(table)
    calls = read_calls(table)
    page = client.get("/status").get_data(as_text=True)
    assert not {"ListExports", "DescribeExport", "ExportTableToPointInTime"} & set(calls)
    assert 'hx-get="/status/exports" hx-trigger="load"' in page and 'href="/status/exports"' in page
    fragment = client.get("/status/exports", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="s3-exports"') and "<html" not in fragment
    assert fact(fragment, "exports-none") == "No exports of this table yet."
    assert "<html" in client.get("/status/exports").get_data(as_text=True), "without JavaScript, a page of its own"


@pytest.mark.parametrize("name, value", [("EXPORT_S3_BUCKET", "Not_A_Bucket"), ("EXPORT_S3_BUCKET", "ab"),
                                         ("EXPORT_S3_PREFIX", "a\nb"), ("EXPORT_S3_PREFIX", "x" * 1025)])
def test_a_bad_bucket_or_prefix_stops_the_app_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        settings_for("some-events", **{name: value})
