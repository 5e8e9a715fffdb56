"""DynamoDB's own export of the table to S3: start one, list them with their progress.

Exports to S3 (`ExportTableToPointInTime`) are DynamoDB's work, from the table's point-in-time recovery
data: the dashboard starts one and lists them (`ListExports`, `DescribeExport`); it never reads the files.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .deadline import carried
from .errors import StoreError, call

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# ListExports answers at most 25 exports a call; each is described (concurrently) for its progress.
LISTED_EXPORTS = 25
DESCRIBE_THREADS = 4
EXPORT_FORMAT = "DYNAMODB_JSON"

_CONFLICT = ("an export started with the same request token but other settings is still known to DynamoDB: "
             "reload the status page and start the export again")
# Why DynamoDB will not start an export, in words that say what is missing (never AWS's own text).
_REFUSALS = {
    "PointInTimeRecoveryUnavailableException": "point-in-time recovery is off for table {table}: DynamoDB exports "
    "to S3 from it. Turn it on (the table's Backups settings, or UpdateContinuousBackups) and start the export again",
    "ExportConflictException": _CONFLICT,
    "ImportConflictException": _CONFLICT,  # what DynamoDB's API reference says it answers to that conflict
    "LimitExceededException": "DynamoDB is running as many exports as it allows at once: wait for one to finish",
}


class ExportRefused(StoreError):
    """DynamoDB will not start an export as things stand (point-in-time recovery off, too many running ...)."""


@dataclass(frozen=True)
class S3Export:
    """One export to S3, as DescribeExport tells it."""

    arn: str
    status: str  # IN_PROGRESS, COMPLETED or FAILED
    started: datetime | None = None
    ended: datetime | None = None
    export_time: datetime | None = None  # the moment of the table the export holds
    item_count: int | None = None
    billed_bytes: int | None = None
    bucket: str | None = None
    prefix: str | None = None
    manifest: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/" if self.prefix else f"s3://{self.bucket}/"


@dataclass(frozen=True)
class S3Exports:
    exports: list[S3Export]  # newest first
    more: bool  # ListExports has more than it answered in one call


class S3Exporter:
    """One table's exports to S3. Thread-safe: one per process."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._arn_lock = threading.Lock()
        self._arn: str | None = None
        self._pool = ThreadPoolExecutor(DESCRIBE_THREADS, thread_name_prefix="export-describe")

    def table_arn(self) -> str:
        """The table's ARN (DescribeTable), asked once: the export APIs name tables by ARN."""
        with self._arn_lock:
            if self._arn is None:
                described = call(self._dynamodb.describe_table, self.table_name, TableName=self.table_name)
                self._arn = str(described["Table"]["TableArn"])
            return self._arn

    def start_s3(self, bucket: str, prefix: str, client_token: str) -> S3Export:
        """Start an export of the whole table to s3://bucket/prefix (the table's name when no prefix is given).

        `client_token` makes the call idempotent: the same token (a form submitted twice) starts one export.
        """
        try:
            response = call(self._dynamodb.export_table_to_point_in_time, self.table_name,
                            TableArn=self.table_arn(), S3Bucket=bucket, S3Prefix=prefix or self.table_name,
                            ExportFormat=EXPORT_FORMAT, ClientToken=client_token)
        except StoreError as error:
            refusal = _REFUSALS.get(error.code)
            if refusal is None:
                raise
            raise ExportRefused(refusal.format(table=self.table_name), error.code, error.detail) from error.__cause__
        return _export(response.get("ExportDescription", {}))

    def s3_exports(self) -> S3Exports:
        """The table's exports with their progress, newest first: one ListExports and a DescribeExport each."""
        listed = call(self._dynamodb.list_exports, self.table_name, TableArn=self.table_arn(),
                      MaxResults=LISTED_EXPORTS)
        arns = [str(summary["ExportArn"]) for summary in listed.get("ExportSummaries", [])]
        # Each DescribeExport runs in a copy of this request's context, so that it keeps the request's deadline.
        described = [future.result() for future in [self._pool.submit(carried(self.describe_s3), arn)
                                                    for arn in arns]]
        described.sort(key=lambda export: export.started.timestamp() if export.started else float("-inf"), reverse=True)
        return S3Exports(described, bool(listed.get("NextToken")))

    def describe_s3(self, arn: str) -> S3Export:
        response = call(self._dynamodb.describe_export, self.table_name, ExportArn=arn)
        return _export(response.get("ExportDescription", {}))


def _export(description: dict[str, Any]) -> S3Export:
    def number(name: str) -> int | None:
        value = description.get(name)
        return int(value) if value is not None else None

    return S3Export(
        arn=str(description.get("ExportArn", "")),
        status=str(description.get("ExportStatus", "UNKNOWN")),
        started=description.get("StartTime"),
        ended=description.get("EndTime"),
        export_time=description.get("ExportTime"),
        item_count=number("ItemCount"),
        billed_bytes=number("BilledSizeBytes"),
        bucket=description.get("S3Bucket"),
        prefix=description.get("S3Prefix"),
        manifest=description.get("ExportManifest"),
        failure_code=description.get("FailureCode"),
        failure_message=description.get("FailureMessage"),
    )
