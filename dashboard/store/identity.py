"""Which account and region a table lives in: read from the ARN that DescribeTable returns, with no call of its own."""
from __future__ import annotations

from typing import Any

from botocore.client import BaseClient


class TableIdentity:
    """The table's ARN, kept from the first DescribeTable answered on its client (listing, status, health check)."""

    def __init__(self, client: BaseClient, table_name: str):
        self.table_name = table_name
        self.region: str | None = client.meta.region_name
        self.arn: str | None = None
        client.meta.events.register("after-call.dynamodb.DescribeTable", self._answered)

    def _answered(self, parsed: dict[str, Any] | None = None, **_: Any) -> None:
        described = (parsed or {}).get("Table") or {}
        arn = described.get("TableArn")
        if isinstance(arn, str) and described.get("TableName") == self.table_name:
            self.arn = arn

    @property
    def account(self) -> str | None:
        """The 12-digit account id (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME), once DescribeTable has answered."""
        parts = (self.arn or "").split(":")
        return parts[4] if len(parts) > 5 and parts[4] else None
