"""What is measured: each page, the same DynamoDB calls made straight with plain boto3, and what the page must show.

The raw side is written here from the DynamoDB API, not borrowed from the dashboard's store, so a
change inside the dashboard cannot quietly change what it is compared with.
"""
from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .timing import Answer, PageClient

if TYPE_CHECKING:  # boto3-stubs is a development requirement only
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        GetItemOutputTypeDef,
        QueryOutputTypeDef,
        ScanInputTypeDef,
        ScanOutputTypeDef,
    )

    StartKey = Mapping[str, AttributeValueTypeDef]

INDEX = "timestamp-index"
BUSY_SECOND = "2024-01-01T13:00:00Z"  # demo_events puts 130 events in this second: more than a page
# Time ranges around the busy second (demo_events spreads the rest over the day: about 7 events a minute at
# 10,000 events, 70 at 100,000), each read under both plans. The first page of 25 fills before the busy second
# on the sparse table's longer ranges, and on it everywhere else.
RANGES = (("1m", "1 min", "2024-01-01T12:59:30Z", "2024-01-01T13:00:29Z"),
          ("15m", "15 min", "2024-01-01T12:52:30Z", "2024-01-01T13:07:29Z"),
          ("1h", "1 h", "2024-01-01T12:30:00Z", "2024-01-01T13:29:59Z"))
RANGE_PLANS = {"fanout": "fanout", "scan": "range-scan"}  # plan= asked -> the plan the page states it ran
RANGE_ROWS = 25
_ROW = re.compile(r'<tr data-event-id="')
_NEXT = re.compile(r'<a rel="next"[^>]*?href="([^"]+)"')
_FIRST_ROW = re.compile(r'<tr data-event-id="([^"]*)"')
_PITR_PANEL = re.compile(r'data-panel="pitr">(.*?)</section>', re.DOTALL)
_FACTS = {name: re.compile(rf"<dd data-{name}[^>]*>(.*?)</dd>", re.DOTALL) for name in ("calls", "consumed-rcu",
                                                                                       "items-read")}
_PLAN = re.compile(r'<dd data-plan="([^"]*)"')


class Raw:
    """Plain boto3 clients on the same endpoint the dashboard uses, with the same retry mode."""

    def __init__(self, endpoint: str, table: str) -> None:
        session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=3, read_timeout=30)
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint, config=config)
        self.autoscaling = session.client("application-autoscaling", endpoint_url=endpoint, config=config)
        self.table = table

    def scan(self, limit: int, start_key: StartKey | None = None) -> ScanOutputTypeDef:
        request: ScanInputTypeDef = {"TableName": self.table, "Limit": limit, "ReturnConsumedCapacity": "TOTAL"}
        if start_key:
            request["ExclusiveStartKey"] = start_key
        return self.dynamodb.scan(**request)

    def query_second(self, second: str, limit: int) -> QueryOutputTypeDef:
        return self.dynamodb.query(
            TableName=self.table, IndexName=INDEX, KeyConditionExpression="#t = :t",
            ExpressionAttributeNames={"#t": "timestamp"}, ExpressionAttributeValues={":t": {"S": second}},
            Limit=limit, ReturnConsumedCapacity="TOTAL",
        )

    def get(self, event_id: str) -> GetItemOutputTypeDef:
        return self.dynamodb.get_item(TableName=self.table, Key={"event_id": {"S": event_id}}, ConsistentRead=True)

    def status(self) -> None:
        """What /status asks: the table, PITR, TTL and auto-scaling; an API a stand-in lacks answers an error."""
        self.dynamodb.describe_table(TableName=self.table)
        for call in (lambda: self.dynamodb.describe_continuous_backups(TableName=self.table),
                     lambda: self.dynamodb.describe_time_to_live(TableName=self.table)):
            with contextlib.suppress(ClientError):
                call()
        with contextlib.suppress(ClientError):
            resources = [f"table/{self.table}", f"table/{self.table}/index/{INDEX}"]
            targets = self.autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=resources)
            if targets["ScalableTargets"]:
                self.autoscaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId=resources[0])

    def range_fanout(self, start: str, end: str, limit: int) -> None:
        """Fan-out's calls, one after another: a whole second per Query (a second may take more than one answer),
        second by second until the page is full. Its time is the calls × the latency of one."""
        from datetime import datetime, timedelta
        moment, last = (datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ") for value in (start, end))
        found = 0
        while moment <= last and found < limit:
            request: dict[str, Any] = {
                "TableName": self.table, "IndexName": INDEX, "KeyConditionExpression": "#t = :t",
                "ExpressionAttributeNames": {"#t": "timestamp"},
                "ExpressionAttributeValues": {":t": {"S": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}},
                "ReturnConsumedCapacity": "TOTAL"}
            while True:
                answer = self.dynamodb.query(**request)
                found += len(answer["Items"])
                if "LastEvaluatedKey" not in answer:
                    break
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            moment += timedelta(seconds=1)

    def range_scan(self, start: str, end: str, segments: int = 4) -> None:
        """The scan plan's calls: the whole table in parallel segments, side by side as the dashboard reads them,
        the timestamp bound as a filter (canonical timestamps); each segment paged to its end."""
        from concurrent.futures import ThreadPoolExecutor

        def segment(number: int) -> None:
            request: dict[str, Any] = {
                "TableName": self.table, "Segment": number, "TotalSegments": segments,
                "FilterExpression": "#t BETWEEN :a AND :b", "ExpressionAttributeNames": {"#t": "timestamp"},
                "ExpressionAttributeValues": {":a": {"S": start}, ":b": {"S": end}}, "ReturnConsumedCapacity": "TOTAL"}
            while True:
                answer = self.dynamodb.scan(**request)
                if "LastEvaluatedKey" not in answer:
                    return
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

        with ThreadPoolExecutor(segments) as pool:
            list(pool.map(segment, range(segments)))


@dataclass
class Case:
    name: str
    label: str
    kind: str  # list, deep, search, detail, status, range
    path: str
    raw: Callable[[], Any]
    client: PageClient  # the gunicorn serving this case's table
    server_cpu_ns: Callable[[], int]  # CPU time of that gunicorn's workers so far
    rows: int | None = None  # rows the page must show
    verify: Callable[[Answer], str | None] | None = None  # what else the page must show
    rounds: int | None = None  # timed in this many rounds (after one warm-up) rather than all: slow pages

    def check(self, answer: Answer) -> str | None:
        if self.verify is not None:
            return self.verify(answer)
        if answer.status != 200:
            return f"{self.path} answered {answer.status}"
        if self.rows is not None and (shown := len(_ROW.findall(answer.body))) != self.rows:
            return f"{self.path} showed {shown} rows, not {self.rows}"
        return None


def rows_in(body: str) -> int:
    return len(_ROW.findall(body))


def deep_pages(client: PageClient, raw: Raw, numbers: tuple[int, ...],
               limit: int = 25) -> dict[int, tuple[str, StartKey | None]]:
    """{page number: (its URL, its ExclusiveStartKey)}: the URL by following rel="next" as a person would,
    the key by paging the same Scan with boto3; both must start at the same event."""
    wanted = max(numbers)
    found: dict[int, tuple[str, StartKey | None]] = {}
    path = f"/events?limit={limit}"
    start_key: StartKey | None = None
    for number in range(1, wanted + 1):
        answer = client.get(path)
        if answer.status != 200:
            raise RuntimeError(f"page {number} ({path[:80]}...) answered {answer.status}")
        scanned = raw.scan(limit, start_key)
        if number in numbers:
            first_row = _FIRST_ROW.search(answer.body)
            first_raw = scanned["Items"][0]["event_id"]["S"] if scanned["Items"] else None
            if not first_row or html.unescape(first_row.group(1)) != first_raw:
                raise RuntimeError(f"page {number}: the dashboard and boto3 disagree on its first event")
            found[number] = (path, start_key)
        following = _NEXT.search(answer.body)
        if number < wanted and (not following or "LastEvaluatedKey" not in scanned):
            raise RuntimeError(f"the table ends before page {wanted}: add events or ask for fewer pages")
        path, start_key = html.unescape(following.group(1)) if following else "", scanned.get("LastEvaluatedKey")
    return found


def detail_id(raw: Raw) -> str:
    """An event with every DynamoDB type on it (demo_events gives every 97th one maps, sets, binary...)."""
    items = raw.scan(100)["Items"]
    return max(items, key=len)["event_id"]["S"]


def pitr_panel(body: str) -> str:
    panel = _PITR_PANEL.search(body)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panel.group(1))).strip() if panel else ""


def check_status(answer: Answer) -> str | None:
    if answer.status != 200:
        return f"/status answered {answer.status}"
    if 'data-table-status' not in answer.body:
        return "/status did not render the table panel"
    if not pitr_panel(answer.body):
        return "/status has no PITR panel"
    return None


def page_facts(body: str) -> dict[str, str]:
    """What a listing page states it did: the plan that ran, its calls, the RCUs and the items it read."""
    facts = {name: re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip()
             for name, pattern in _FACTS.items() if (found := pattern.search(body))}
    if plan := _PLAN.search(body):
        facts["plan"] = plan.group(1)
    if "data-budget-spent" in body:
        facts["budget_spent"] = "yes"
    return facts


def check_range(plan: str, answer: Answer) -> str | None:
    """A full first page, read with the plan asked for; or one that stopped on its read budget (READ_BUDGET_SECONDS)
    before it was full, as a fan-out page over many empty seconds may (the range table says so)."""
    if answer.status != 200:
        return f"the range page answered {answer.status}"
    facts = page_facts(answer.body)
    if (shown := rows_in(answer.body)) != RANGE_ROWS and "budget_spent" not in facts:
        return f"the range page showed {shown} rows, not {RANGE_ROWS}"
    if facts.get("plan") != RANGE_PLANS[plan]:
        return f"the range page ran plan {facts.get('plan')!r}, not {RANGE_PLANS[plan]!r}"
    return None


def range_cases(client: PageClient, cpu: Callable[[], int], raw: Raw, rounds: dict[str, int]) -> list[Case]:
    """The first page of each range under each plan (plan= asked for), beside the same calls made with boto3."""
    found = []
    for short, label, start, end in RANGES:
        for plan in RANGE_PLANS:
            path = f"/events?from={quote(start)}&to={quote(end)}&plan={plan}&limit={RANGE_ROWS}"
            same_calls = (partial(raw.range_fanout, start, end, RANGE_ROWS) if plan == "fanout"
                          else partial(raw.range_scan, start, end))
            found.append(Case(f"range_{short}_{plan}", f"range {label}, plan={plan}", "range", path, same_calls,
                              client, cpu, rows=RANGE_ROWS, verify=partial(check_range, plan), rounds=rounds[plan]))
    return found


def build(client: PageClient, cpu: Callable[[], int], raw: Raw, deep: tuple[int, ...],
          range_rounds: dict[str, int]) -> list[Case]:
    """Every measured page; deep pages and the detail id are looked up on the table as loaded now."""
    pages = deep_pages(client, raw, deep)
    event_id = detail_id(raw)
    busy = quote(BUSY_SECOND)
    cases = [
        Case("list_25", "list, 25 rows", "list", "/events?limit=25", lambda: raw.scan(25), client, cpu, rows=25),
        Case("list_100", "list, 100 rows", "list", "/events?limit=100", lambda: raw.scan(100), client, cpu, rows=100),
    ]
    for number in deep:
        path, key = pages[number]
        cases.append(Case(f"page_{number}", f"list page {number} (25 rows)", "deep", path,
                          partial(raw.scan, 25, key), client, cpu, rows=25))
    cases += [
        Case("detail", "event detail", "detail", f"/events/{quote(event_id, safe='')}", lambda: raw.get(event_id),
             client, cpu),
        Case("search_25", "timestamp search, 25 rows", "search", f"/events?timestamp={busy}&limit=25",
             lambda: raw.query_second(BUSY_SECOND, 25), client, cpu, rows=25),
        Case("search_100", "timestamp search, 100 rows", "search", f"/events?timestamp={busy}&limit=100",
             lambda: raw.query_second(BUSY_SECOND, 100), client, cpu, rows=100),
    ]
    if range_rounds:  # {} leaves the ranges out (moto, whose every Query walks the table)
        cases += range_cases(client, cpu, raw, range_rounds)
    cases.append(Case("status", "status page", "status", "/status", raw.status, client, cpu, verify=check_status))
    return cases
