"""Links out to the AWS console, in the environment's region: an event's S3 object, the table, its metrics."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

# An AWS region (eu-west-1, us-gov-west-1, ap-southeast-4): anything else makes no link.
_REGION = re.compile(r"\A[a-z]{2}(-[a-z]+)+-\d{1,2}\Z")
# A general purpose bucket's name, as S3 allows it.
_BUCKET = re.compile(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


def _home(region: str | None) -> str | None:
    return f"https://{region}.console.aws.amazon.com" if region and _REGION.match(region) else None


def s3_object(region: str | None, values: dict[str, Any]) -> str | None:
    """The S3 object an event names with `source` (the bucket) and `key`, or None when they name none."""
    home, bucket, key = _home(region), values.get("source"), values.get("key")
    if home is None or not isinstance(bucket, str) or not _BUCKET.match(bucket) or not isinstance(key, str) or not key:
        return None
    return f"{home}/s3/object/{bucket}?region={region}&bucketType=general&prefix={quote(key, safe='')}"


def table(region: str | None, name: str) -> str | None:
    home = _home(region)
    return f"{home}/dynamodbv2/home?region={region}#table?name={quote(name, safe='')}" if home else None


def metrics(region: str | None, name: str) -> str | None:
    """CloudWatch's metrics browser on the table's AWS/DynamoDB metrics."""
    home = _home(region)
    return (f"{home}/cloudwatch/home?region={region}#metricsV2:graph=~();namespace=AWS/DynamoDB;"
            f"dimensions=TableName;search={quote(name, safe='')}") if home else None
