"""The only module that talks to DynamoDB: reads and writes the events table, maps SDK errors to domain errors.

Everything it returns is a plain dataclass; views never see boto3 shapes or exceptions.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, Callable, Iterable, Mapping

import boto3
from boto3.dynamodb.conditions import Attr, ConditionExpressionBuilder, Key as KeyCondition
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from .config import ConfigError, Settings

log = logging.getLogger(__name__)

TABLE_KEY = "event_id"
# The region a DynamoDB stand-in is asked in when nothing else names one (moto keeps tables per region).
LOCAL_DEFAULT_REGION = "us-east-1"
TIMESTAMP_INDEX = "timestamp-index"
TIMESTAMP_ATTRIBUTE = "timestamp"

WireItem = dict[str, dict[str, Any]]
PageKey = dict[str, dict[str, Any]]

_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "Throttling",
}
_DENIED = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
}
_UNSUPPORTED = {"UnknownOperationException", "NotImplemented", "InvalidAction", "UnsupportedOperation"}


# ---------------------------------------------------------------------------- errors


class StoreError(Exception):
    """A DynamoDB answer the dashboard turns into a page, not a traceback."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code  # DynamoDB's error code, when DynamoDB gave one


class EventNotFound(StoreError):
    pass


class EventExists(StoreError):
    pass


class BackendUnavailable(StoreError):
    pass


class Throttled(BackendUnavailable):
    pass


class TableMissing(BackendUnavailable):
    pass


class AccessDenied(StoreError):
    pass


class Rejected(StoreError):
    """DynamoDB refused the request as invalid (an item over 400 KB, say)."""


# ---------------------------------------------------------------------------- values


class _ExactDeserializer(TypeDeserializer):
    """boto3's deserializer, but numbers keep every digit they were stored with and binary is bytes."""

    def _deserialize_n(self, value: str) -> Decimal:
        return Decimal(value)

    def _deserialize_ns(self, value: Iterable[str]) -> set[Decimal]:
        return {Decimal(v) for v in value}

    def _deserialize_b(self, value: bytes) -> bytes:
        return bytes(value)

    def _deserialize_bs(self, value: Iterable[bytes]) -> set[bytes]:
        return {bytes(v) for v in value}


_DESERIALIZER = _ExactDeserializer()
_SERIALIZER = TypeSerializer()


def to_plain(item: WireItem) -> dict[str, Any]:
    """A stored item as Python values: str, Decimal, bytes, bool, None, set, list, dict."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


@dataclass(frozen=True)
class Event:
    """One stored event, kept exactly as DynamoDB returned it."""

    item: WireItem

    @property
    def event_id(self) -> str:
        typed = self.item.get(TABLE_KEY, {})
        return str(next(iter(typed.values()), ""))

    @cached_property
    def values(self) -> dict[str, Any]:
        return to_plain(self.item)

    def get(self, name: str) -> Any:
        return self.values.get(name)


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    # DynamoDB's LastEvaluatedKey: None when the listing has no more pages.
    next_key: PageKey | None
    consumed_rcu: float | None
    scanned_count: int


# ---------------------------------------------------------------------------- status


@dataclass(frozen=True)
class Unavailable:
    """Why one status panel could not be read: the others still render."""

    reason: str  # "denied", "unsupported" or "error"
    message: str


@dataclass(frozen=True)
class IndexStatus:
    name: str
    status: str
    key_schema: list[tuple[str, str]]
    projection: str
    item_count: int | None
    size_bytes: int | None
    read_capacity: int | None
    write_capacity: int | None
    backfilling: bool = False


@dataclass(frozen=True)
class TableDescription:
    name: str
    status: str
    arn: str | None
    created_at: datetime | None
    key_schema: list[tuple[str, str]]
    attribute_types: dict[str, str]
    item_count: int | None
    size_bytes: int | None
    billing_mode: str
    read_capacity: int | None
    write_capacity: int | None
    indexes: list[IndexStatus]
    sse_status: str
    sse_type: str | None
    kms_key: str | None
    stream_enabled: bool
    stream_view_type: str | None
    table_class: str
    deletion_protection: bool | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class PitrStatus:
    status: str  # ENABLED, DISABLED or UNKNOWN
    earliest_restorable: datetime | None = None
    latest_restorable: datetime | None = None
    backups_status: str | None = None
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class TtlStatus:
    status: str  # ENABLED, DISABLED, ENABLING, DISABLING or UNKNOWN
    attribute: str | None = None
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class ScalingTarget:
    resource: str
    dimension: str
    min_capacity: int
    max_capacity: int
    target_utilization: float | None


@dataclass(frozen=True)
class AutoScalingStatus:
    targets: list[ScalingTarget]
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class TableStatus:
    table_name: str
    description: TableDescription | None
    description_unavailable: Unavailable | None
    pitr: PitrStatus
    ttl: TtlStatus
    autoscaling: AutoScalingStatus


@dataclass(frozen=True)
class ItemCount:
    """DynamoDB's approximate item count and when the dashboard last asked for it."""

    count: int
    asked_at: float


# ---------------------------------------------------------------------------- clients


def _client_config(settings: Settings) -> Config:
    # botocore's legacy default retries DynamoDB 10 times with long waits: a dead backend
    # would hold a page for minutes. Standard mode with few attempts answers in seconds.
    # (total_max_attempts counts the first try; the older max_attempts key counts only retries.)
    return Config(
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        user_agent_extra="events-dashboard",
    )


def build_clients(settings: Settings) -> tuple[Any, Any]:
    """The DynamoDB and application-autoscaling clients, built once per process."""
    session = boto3.session.Session(region_name=settings.region)
    if settings.dynamodb_endpoint:
        # A stand-in (DynamoDB Local, moto) signs nothing it checks: when the shell has no region or
        # credentials, use throwaway ones rather than refusing to start. AWS itself never gets these.
        if session.region_name is None:
            session = boto3.session.Session(region_name=LOCAL_DEFAULT_REGION)
            log.info("no AWS region configured; using %s for %s", LOCAL_DEFAULT_REGION, settings.dynamodb_endpoint)
        if session.get_credentials() is None:
            session = boto3.session.Session(region_name=session.region_name, aws_access_key_id="local",
                                            aws_secret_access_key="local")
            log.info("no AWS credentials configured; using throwaway ones for %s", settings.dynamodb_endpoint)
    config = _client_config(settings)
    try:
        # With no endpoint set, boto3 resolves AWS's own (and any endpoint_url in the profile).
        dynamodb = session.client("dynamodb", config=config, endpoint_url=settings.dynamodb_endpoint)
        autoscaling = session.client("application-autoscaling", config=config,
                                     endpoint_url=settings.autoscaling_endpoint)
    except NoRegionError:
        raise ConfigError(
            "no AWS region is configured: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile with a region)"
        ) from None
    return dynamodb, autoscaling


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or _error_code(error)


def _http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


# ---------------------------------------------------------------------------- the store


class EventStore:
    """Reads and writes one events table. Thread-safe: one per process."""

    def __init__(self, dynamodb: Any, table_name: str, autoscaling: Any = None,
                 describe_cache_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._dynamodb = dynamodb
        self._autoscaling = autoscaling
        self.table_name = table_name
        self._describe_cache_seconds = describe_cache_seconds
        self._clock = clock
        self._count_lock = threading.Lock()
        self._count: ItemCount | None = None
        self._count_asked_at: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "EventStore":
        dynamodb, autoscaling = build_clients(settings)
        return cls(dynamodb, settings.table_name, autoscaling, settings.describe_cache_seconds)

    @property
    def endpoint_url(self) -> str:
        return str(self._dynamodb.meta.endpoint_url)

    # -- reads

    def page(self, limit: int, start_key: PageKey | None = None) -> EventPage:
        """One page of the table in DynamoDB's order: exactly one Scan call."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Limit": limit,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        return self._to_page(self._call(self._dynamodb.scan, **request))

    def by_timestamp(self, timestamp: str, limit: int, start_key: PageKey | None = None) -> EventPage:
        """One page of the events at one stored timestamp, through the index: exactly one Query call."""
        expression, names, values = self._expression(KeyCondition(TIMESTAMP_ATTRIBUTE).eq(timestamp), key=True)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": TIMESTAMP_INDEX,
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": limit,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        return self._to_page(self._call(self._dynamodb.query, **request))

    def get(self, event_id: str) -> Event:
        response = self._call(
            self._dynamodb.get_item,
            TableName=self.table_name,
            Key={TABLE_KEY: {"S": event_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            raise EventNotFound(f"no event with id {event_id!r} in table {self.table_name}")
        return Event(item)

    def approximate_count(self) -> ItemCount | None:
        """DynamoDB's ItemCount, reused for a minute: it is refreshed only every ~6 hours anyway.

        None when DescribeTable cannot answer; a listing page does not fail for that, and a
        failure is remembered as long as a success so a denied DescribeTable costs one call a minute.
        """
        now = self._clock()
        with self._count_lock:
            cached, asked_at = self._count, self._count_asked_at
        if asked_at is not None and now - asked_at < self._describe_cache_seconds:
            return cached
        try:
            table = self._call(self._dynamodb.describe_table, TableName=self.table_name)["Table"]
            fresh: ItemCount | None = ItemCount(int(table.get("ItemCount", 0)), now)
        except StoreError:
            fresh = None
        with self._count_lock:
            self._count, self._count_asked_at = fresh, now
        return fresh

    def ping(self) -> str:
        """The table's status, straight from DescribeTable: the health check."""
        table = self._call(self._dynamodb.describe_table, TableName=self.table_name)["Table"]
        return str(table.get("TableStatus", "UNKNOWN"))

    def status(self) -> TableStatus:
        """Every status panel; each one that cannot be read says why and the rest still answer."""
        description, description_unavailable = None, None
        try:
            raw = self._call(self._dynamodb.describe_table, TableName=self.table_name)["Table"]
            description = _describe(raw)
        except TableMissing:
            raise
        except StoreError as error:
            description_unavailable = _unavailable(error)
        return TableStatus(
            table_name=self.table_name,
            description=description,
            description_unavailable=description_unavailable,
            pitr=self._pitr(),
            ttl=self._ttl(),
            autoscaling=self._scaling(description),
        )

    def _pitr(self) -> PitrStatus:
        try:
            response = self._call(self._dynamodb.describe_continuous_backups, TableName=self.table_name)
        except StoreError as error:
            return PitrStatus("UNKNOWN", unavailable=_unavailable(error))
        backups = response.get("ContinuousBackupsDescription", {})
        pitr = backups.get("PointInTimeRecoveryDescription", {})
        return PitrStatus(
            status=str(pitr.get("PointInTimeRecoveryStatus", "UNKNOWN")),
            earliest_restorable=pitr.get("EarliestRestorableDateTime"),
            latest_restorable=pitr.get("LatestRestorableDateTime"),
            backups_status=backups.get("ContinuousBackupsStatus"),
        )

    def _ttl(self) -> TtlStatus:
        try:
            response = self._call(self._dynamodb.describe_time_to_live, TableName=self.table_name)
        except StoreError as error:
            return TtlStatus("UNKNOWN", unavailable=_unavailable(error))
        ttl = response.get("TimeToLiveDescription", {})
        return TtlStatus(str(ttl.get("TimeToLiveStatus", "UNKNOWN")), ttl.get("AttributeName"))

    def _scaling(self, description: TableDescription | None) -> AutoScalingStatus:
        if self._autoscaling is None:
            return AutoScalingStatus([], Unavailable("unsupported", "no application-autoscaling client configured"))
        resources = [f"table/{self.table_name}"]
        if description is not None:
            resources += [f"table/{self.table_name}/index/{index.name}" for index in description.indexes]
        try:
            targets = self._call(
                self._autoscaling.describe_scalable_targets,
                ServiceNamespace="dynamodb",
                ResourceIds=resources,
            ).get("ScalableTargets", [])
            policies = self._call(
                self._autoscaling.describe_scaling_policies,
                ServiceNamespace="dynamodb",
                ResourceId=resources[0],
            ).get("ScalingPolicies", []) if targets else []
        except StoreError as error:
            return AutoScalingStatus([], _unavailable(error))
        utilization = {
            (policy.get("ResourceId"), policy.get("ScalableDimension")):
                policy.get("TargetTrackingScalingPolicyConfiguration", {}).get("TargetValue")
            for policy in policies
        }
        return AutoScalingStatus([
            ScalingTarget(
                resource=str(target.get("ResourceId")),
                dimension=str(target.get("ScalableDimension")),
                min_capacity=int(target.get("MinCapacity", 0)),
                max_capacity=int(target.get("MaxCapacity", 0)),
                target_utilization=utilization.get((target.get("ResourceId"), target.get("ScalableDimension"))),
            )
            for target in targets
        ])

    # -- writes

    def put_new(self, values: Mapping[str, Any]) -> Event:
        """Write an event only if its id is new: an existing event is never overwritten."""
        item = {name: _SERIALIZER.serialize(value) for name, value in values.items()}
        expression, names, _ = self._expression(Attr(TABLE_KEY).not_exists())
        try:
            self._call(
                self._dynamodb.put_item,
                TableName=self.table_name,
                Item=item,
                ConditionExpression=expression,
                ExpressionAttributeNames=names,
                _conditional=True,
            )
        except _ConditionFailed:
            raise EventExists(f"an event with id {values.get(TABLE_KEY)!r} already exists; nothing was written") from None
        return Event(item)

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Write demo events in batches of 25 (overwrites by design: seeding is repeatable)."""
        batch: list[dict[str, Any]] = []
        written = 0
        for values in items:
            batch.append({"PutRequest": {"Item": {k: _SERIALIZER.serialize(v) for k, v in values.items()}}})
            if len(batch) == 25:
                written += self._write_batch(batch)
                batch = []
        if batch:
            written += self._write_batch(batch)
        return written

    def _write_batch(self, batch: list[dict[str, Any]]) -> int:
        pending = {self.table_name: batch}
        for attempt in range(8):
            response = self._call(self._dynamodb.batch_write_item, RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return len(batch)
            time.sleep(min(2.0, 0.05 * 2 ** attempt))
        raise Throttled(f"DynamoDB left {len(pending[self.table_name])} demo events unprocessed after retries")

    def create_table(self, point_in_time_recovery: bool = True, wait: bool = True) -> bool:
        """Create the table as TABLE-SPEC.md says; False when it already exists. Idempotent."""
        try:
            self._call(
                self._dynamodb.create_table,
                TableName=self.table_name,
                AttributeDefinitions=[
                    {"AttributeName": TABLE_KEY, "AttributeType": "S"},
                    {"AttributeName": TIMESTAMP_ATTRIBUTE, "AttributeType": "S"},
                ],
                KeySchema=[{"AttributeName": TABLE_KEY, "KeyType": "HASH"}],
                GlobalSecondaryIndexes=[{
                    "IndexName": TIMESTAMP_INDEX,
                    "KeySchema": [{"AttributeName": TIMESTAMP_ATTRIBUTE, "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }],
                BillingMode="PAY_PER_REQUEST",
                SSESpecification={"Enabled": True},
                _in_use_ok=True,
            )
        except _InUse:
            created = False
        else:
            created = True
        if wait:
            self._dynamodb.get_waiter("table_exists").wait(
                TableName=self.table_name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
            )
        if point_in_time_recovery:
            self._enable_pitr()
        return created

    def _enable_pitr(self, attempts: int = 20, pause: float = 3.0) -> None:
        # A table that has just become ACTIVE answers ContinuousBackupsUnavailableException
        # for a while on AWS: its backups are still being set up.
        for attempt in range(attempts):
            try:
                self._call(
                    self._dynamodb.update_continuous_backups,
                    TableName=self.table_name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
                return
            except BackendUnavailable as error:
                if error.code != "ContinuousBackupsUnavailableException" or attempt == attempts - 1:
                    raise
                time.sleep(pause)

    # -- plumbing

    @staticmethod
    def _expression(condition: Any, key: bool = False) -> tuple[str, dict[str, str], dict[str, Any]]:
        # boto3's builder always uses placeholders, so reserved words such as `timestamp` are safe.
        built = ConditionExpressionBuilder().build_expression(condition, is_key_condition=key)
        values = {name: _SERIALIZER.serialize(value) for name, value in built.attribute_value_placeholders.items()}
        return built.condition_expression, built.attribute_name_placeholders, values

    def _call(self, operation: Callable[..., dict[str, Any]], _conditional: bool = False,
              _in_use_ok: bool = False, **request: Any) -> dict[str, Any]:
        """Call DynamoDB and turn every SDK failure into a StoreError, at this one boundary."""
        try:
            return operation(**request)
        except ClientError as error:
            code = _error_code(error)
            if _conditional and code == "ConditionalCheckFailedException":
                raise _ConditionFailed() from None
            if _in_use_ok and code == "ResourceInUseException":
                raise _InUse() from None
            raise self._translate(error) from None
        except NoCredentialsError:
            raise BackendUnavailable("no AWS credentials are configured for the dashboard") from None
        except BotoCoreError as error:
            raise BackendUnavailable(f"DynamoDB did not answer: {error}") from None

    def _translate(self, error: ClientError) -> StoreError:
        code, message = _error_code(error), _error_message(error)
        if code in _THROTTLED:
            return Throttled(f"DynamoDB is throttling requests ({code}); try again in a moment")
        if code in _DENIED:
            return AccessDenied(f"DynamoDB refused access ({code}): {message}")
        if code == "ResourceNotFoundException":
            return TableMissing(f"table {self.table_name} was not found at {self.endpoint_url} ({message})")
        if code in _UNSUPPORTED or _http_status(error) in (404, 501):
            return _Unsupported(f"the endpoint does not support this call ({code or _http_status(error)}): {message}")
        if code == "ValidationException":
            return Rejected(f"DynamoDB rejected the request: {message}")
        return BackendUnavailable(f"DynamoDB answered with an error ({code}): {message}", code)

    def _to_page(self, response: dict[str, Any]) -> EventPage:
        consumed = response.get("ConsumedCapacity") or {}
        units = consumed.get("CapacityUnits")
        return EventPage(
            events=[Event(item) for item in response.get("Items", [])],
            next_key=response.get("LastEvaluatedKey") or None,
            consumed_rcu=float(units) if units is not None else None,
            scanned_count=int(response.get("ScannedCount", 0)),
        )


class _ConditionFailed(Exception):
    pass


class _InUse(Exception):
    pass


class _Unsupported(StoreError):
    pass


def _unavailable(error: StoreError) -> Unavailable:
    if isinstance(error, AccessDenied):
        return Unavailable("denied", error.message)
    if isinstance(error, _Unsupported):
        return Unavailable("unsupported", error.message)
    return Unavailable("error", error.message)


def _key_schema(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(str(part.get("AttributeName")), str(part.get("KeyType"))) for part in schema or []]


def _capacity(throughput: dict[str, Any] | None, billing_mode: str, name: str) -> int | None:
    if billing_mode == "PAY_PER_REQUEST" or not throughput:
        return None
    value = throughput.get(name)
    return int(value) if value is not None else None


def _describe(raw: dict[str, Any]) -> TableDescription:
    billing = raw.get("BillingModeSummary", {}).get("BillingMode")
    if not billing:
        # Tables created before on-demand existed carry no summary and are provisioned.
        billing = "PROVISIONED"
    sse = raw.get("SSEDescription") or {}
    stream = raw.get("StreamSpecification") or {}
    indexes = [
        IndexStatus(
            name=str(index.get("IndexName")),
            status=str(index.get("IndexStatus", "UNKNOWN")),
            key_schema=_key_schema(index.get("KeySchema", [])),
            projection=str(index.get("Projection", {}).get("ProjectionType", "")),
            item_count=index.get("ItemCount"),
            size_bytes=index.get("IndexSizeBytes"),
            read_capacity=_capacity(index.get("ProvisionedThroughput"), billing, "ReadCapacityUnits"),
            write_capacity=_capacity(index.get("ProvisionedThroughput"), billing, "WriteCapacityUnits"),
            backfilling=bool(index.get("Backfilling", False)),
        )
        for index in raw.get("GlobalSecondaryIndexes", [])
    ]
    return TableDescription(
        name=str(raw.get("TableName")),
        status=str(raw.get("TableStatus", "UNKNOWN")),
        arn=raw.get("TableArn"),
        created_at=raw.get("CreationDateTime"),
        key_schema=_key_schema(raw.get("KeySchema", [])),
        attribute_types={d["AttributeName"]: d["AttributeType"] for d in raw.get("AttributeDefinitions", [])},
        item_count=raw.get("ItemCount"),
        size_bytes=raw.get("TableSizeBytes"),
        billing_mode=billing,
        read_capacity=_capacity(raw.get("ProvisionedThroughput"), billing, "ReadCapacityUnits"),
        write_capacity=_capacity(raw.get("ProvisionedThroughput"), billing, "WriteCapacityUnits"),
        indexes=indexes,
        # A table without SSEDescription is encrypted with an AWS owned key: DynamoDB always encrypts.
        sse_status=str(sse.get("Status", "ENABLED (AWS owned key)" if not sse else "UNKNOWN")),
        sse_type=sse.get("SSEType"),
        kms_key=sse.get("KMSMasterKeyArn"),
        stream_enabled=bool(stream.get("StreamEnabled", False)),
        stream_view_type=stream.get("StreamViewType"),
        table_class=str(raw.get("TableClassSummary", {}).get("TableClass", "STANDARD")),
        deletion_protection=raw.get("DeletionProtectionEnabled"),
        raw=raw,
    )
