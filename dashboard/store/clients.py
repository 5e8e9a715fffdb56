"""The boto3 clients of one process: built once from Settings, with retries and timeouts that answer in seconds."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import NoRegionError, ProfileNotFound

from dashboard.settings.config import LOCAL_REGION, ConfigError, Settings

from .attempts import watch_attempts
from .breaker import with_breaker
from .deadline import bound_by_deadline

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

# Concurrent reads of one range page (store/ranges.py) and the status page's panels, on every gunicorn
# thread: botocore's default pool of 10 connections per client would make some of them queue. Connections
# are opened only when needed, so a generous cap costs nothing.
FANOUT_WORKERS = 16
MAX_POOL_CONNECTIONS = 50


@dataclass(frozen=True)
class Clients:
    """boto3 clients are thread-safe and expensive to build: one set per process, shared by the store."""

    dynamodb: DynamoDBClient
    autoscaling: ApplicationAutoScalingClient
    cloudwatch: CloudWatchClient
    # The longest a CloudWatch answer can take (its connect and read timeouts, one attempt): a page never waits more.
    metrics_wait_seconds: float = 6.0

    @property
    def endpoint_url(self) -> str:
        return str(self.dynamodb.meta.endpoint_url)


def _client_config(settings: Settings) -> Config:
    # botocore's legacy default retries DynamoDB 10 times with long waits: a dead backend
    # would hold a page for minutes. Standard mode with few attempts answers in seconds.
    # (total_max_attempts counts the first try; the older max_attempts key counts only retries.)
    return Config(
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        user_agent_extra="events-dashboard",
        # Every gunicorn thread and the status page's fan-out may hold a connection at once.
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )


def _cloudwatch_config(settings: Settings) -> Config:
    # Metrics are one panel of the status page, never a reason for it to be late: one attempt,
    # answered within CLOUDWATCH_TIMEOUT or given up (the page shows the rest either way).
    return _client_config(settings).merge(Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=min(settings.connect_timeout, settings.cloudwatch_timeout),
        read_timeout=settings.cloudwatch_timeout,
    ))


def build_clients(settings: Settings) -> Clients:
    """The DynamoDB, application-autoscaling and CloudWatch clients, built once per process."""
    try:
        session = boto3.session.Session(region_name=settings.region, profile_name=settings.profile)
    except ProfileNotFound:
        raise ConfigError(f"the AWS profile {settings.profile!r} is not in the AWS config files") from None
    if settings.dynamodb_endpoint:
        # A stand-in (DynamoDB Local, moto) signs nothing it checks: when the shell has no region or
        # credentials, use throwaway ones rather than refusing to start. AWS itself never gets these.
        if session.region_name is None:
            session = boto3.session.Session(region_name=LOCAL_REGION, profile_name=settings.profile)
            log.info("no AWS region configured; using %s for %s", LOCAL_REGION, settings.dynamodb_endpoint)
        if session.get_credentials() is None:
            session = boto3.session.Session(region_name=session.region_name, aws_access_key_id="local",
                                            aws_secret_access_key="local")
            log.info("no AWS credentials configured; using throwaway ones for %s", settings.dynamodb_endpoint)
    config = _client_config(settings)
    try:
        # With no endpoint set, boto3 resolves AWS's own (and any endpoint_url in the profile).
        return Clients(
            dynamodb=watch_attempts(with_breaker(bound_by_deadline(
                session.client("dynamodb", config=config, endpoint_url=settings.dynamodb_endpoint)))),
            autoscaling=with_breaker(bound_by_deadline(
                session.client("application-autoscaling", config=config, endpoint_url=settings.autoscaling_endpoint))),
            cloudwatch=session.client("cloudwatch", config=_cloudwatch_config(settings),
                                      endpoint_url=settings.cloudwatch_endpoint),
            metrics_wait_seconds=(min(settings.connect_timeout, settings.cloudwatch_timeout)
                                  + settings.cloudwatch_timeout),
        )
    except NoRegionError:
        raise ConfigError(
            "no AWS region is configured: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile with a region)"
        ) from None
