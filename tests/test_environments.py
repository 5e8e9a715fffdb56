"""Several environments in one dashboard: configuration, URLs, isolation at the wire, cursors, health, the switcher."""
from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from dashboard.app import create_app
from dashboard.settings.config import ConfigError, Settings
from dashboard.store import Table
from tests.conftest import SECRET, admin, csrf_field, moto_server, put_items, settings_for, unique_table
from tests.pages import error_message, fact, link

NAMES = ("dev", "staging", "prod")
SECOND = "2024-01-01T00:00:00Z"


def settings_with(**values: str) -> Settings:
    return Settings.from_env({"SECRET_KEY": SECRET, "DASHBOARD_AUTH": "off", **values})


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "dashboard.toml"
    path.write_text(text)
    return str(path)


def environments_toml(tables: dict[str, tuple[str, str]], **extra: dict[str, object]) -> str:
    """[environments.NAME] for each (table, endpoint), in order, with any extra keys per environment."""
    blocks = []
    for name, (table, endpoint) in tables.items():
        lines = [f"[environments.{name}]", f'table = "{table}"', f'endpoint = "{endpoint}"']
        lines += [f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}"
                  for key, value in extra.get(name, {}).items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def make_table(endpoint: str, prefix: str, count: int = 30) -> str:
    name = unique_table()
    table = Table.open(settings_for(name, endpoint))
    admin(table).create_table(point_in_time_recovery=False)
    put_items(table, ({"event_id": f"{prefix}-{n:04}", "timestamp": SECOND, "event_type": "test",
                       "source": f"{prefix}-bucket", "key": f"in/{n}.txt"} for n in range(count)))
    return name


@pytest.fixture(scope="module")
def second_endpoint() -> Iterator[str]:
    """A second DynamoDB (moto server in its own process): prod lives there, and a test stops it."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def three_tables(moto_endpoint: str, second_endpoint: str) -> dict[str, tuple[str, str]]:
    """dev and staging on one endpoint, prod on the other; each table's ids start with its environment's name."""
    return {"dev": (make_table(moto_endpoint, "dev"), moto_endpoint),
            "staging": (make_table(moto_endpoint, "staging"), moto_endpoint),
            "prod": (make_table(second_endpoint, "prod"), second_endpoint)}


def three_environments(tmp_path: Path, tables: dict[str, tuple[str, str]], **extra: Any):
    config = write_config(tmp_path, environments_toml(tables, **{"prod": {"production": True}, **extra}))
    app = create_app(settings_with(DASHBOARD_CONFIG=config))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app3(tmp_path: Path, three_tables: dict[str, tuple[str, str]]):
    return three_environments(tmp_path, three_tables)


def tables_asked(app) -> dict[str, list[str]]:
    """Per environment, the TableName of every DynamoDB call its clients make from now on, as botocore sends it."""
    seen: dict[str, list[str]] = {}
    found = app.extensions["environments"]
    for environment in found.all:
        calls = seen.setdefault(environment.name, [])
        found.table(environment).clients.dynamodb.meta.events.register(
            "provide-client-params.dynamodb.*",
            lambda params, calls=calls, **_: calls.append(params.get("TableName", "?")))
    return seen


# ------------------------------------------------------------------------------------------- configuration


def test_config_file_gives_environments_in_order_with_their_own_table_region_and_endpoint(tmp_path):
    config = write_config(tmp_path, """
[environments.dev]
table = "devops-studio-dev-events"
region = "eu-west-1"
endpoint = "http://127.0.0.1:8000"
[environments.prod]
table = "devops-studio-prod-events"
profile = "ops-prod"
production = true
""")
    settings = settings_with(DASHBOARD_CONFIG=config)
    dev, prod = settings.environments
    assert (dev.name, dev.settings.table_name, dev.settings.region, dev.settings.dynamodb_endpoint) == (
        "dev", "devops-studio-dev-events", "eu-west-1", "http://127.0.0.1:8000")
    assert (prod.name, prod.settings.table_name, prod.settings.profile, prod.production) == (
        "prod", "devops-studio-prod-events", "ops-prod", True)
    assert not dev.locked and prod.locked and prod.settings.read_only and not dev.settings.read_only


def test_project_and_environments_follow_the_naming_pattern_and_mark_prod(tmp_path):
    settings = settings_with(PROJECT="devops-studio", ENVIRONMENTS="dev, staging,prod")
    assert [(env.name, env.settings.table_name, env.production) for env in settings.environments] == [
        ("dev", "devops-studio-dev-events", False), ("staging", "devops-studio-staging-events", False),
        ("prod", "devops-studio-prod-events", True)]


def test_without_environments_the_single_table_is_served_at_todays_urls(client):
    assert client.get("/events").status_code == 200
    # Issue 23: `/` is the landing page (the recent past), no longer a redirect to /events.
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(("text", "message"), [
    ("[environments.dev\ntable = 'x'", "not valid TOML"),
    ("[environments.dev]\ntable = 'a-dev-events'\ncolour = 'red'\n", "environments.dev.colour is not a known key"),
    ("[environments.dev]\nregion = 'eu-west-1'\n", "environments.dev.table is missing"),
    ("[environments.Dev]\ntable = 'a-dev-events'\n", "cannot be a URL segment"),
    ("[environments.static]\ntable = 'a-dev-events'\n", "is a path the dashboard serves itself"),
    ("[environments.dev]\ntable = 'a dev'\n", "environments.dev.table 'a dev' is not a DynamoDB table name"),
    ("[environments.dev]\ntable = 'a-dev-events'\nproduction = 'yes'\n", "environments.dev.production must be true"),
    ("[environments.dev]\ntable = 'a-dev-events'\n[environments.dev]\ntable = 'b'\n", "not valid TOML"),
    ("title = 'ops'\n", "title is not a known key"),
    ("[environments.staging]\ntable = 'a-events'\n[environments.prod]\ntable = 'a-events'\n",
     "environments.prod.table names the same table as environments.staging"),
    ("", "environments is missing"),
])
def test_a_bad_configuration_file_stops_the_app_naming_the_file_and_the_key(tmp_path, text, message):
    config = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        create_app(settings_with(DASHBOARD_CONFIG=config))
    assert message in str(raised.value) and config in str(raised.value)


@pytest.mark.parametrize(("values", "message"), [
    ({"DASHBOARD_CONFIG": "/nonexistent/dashboard.toml"}, "DASHBOARD_CONFIG /nonexistent/dashboard.toml: cannot be"),
    ({"PROJECT": "devops-studio", "ENVIRONMENTS": "dev,dev"}, "'dev' is listed twice"),
    ({"PROJECT": "devops-studio"}, "PROJECT and ENVIRONMENTS go together"),
    ({"ENVIRONMENTS": "dev,Prod", "PROJECT": "x"}, "'Prod' cannot be a URL segment"),
    ({"ENVIRONMENTS": "dev", "PROJECT": "x", "DASHBOARD_CONFIG": "a.toml"}, "not both"),
])
def test_bad_environment_variables_stop_the_app_with_their_message(values, message):
    with pytest.raises(ConfigError, match=message):
        settings_with(**values)


# ------------------------------------------------------------------------------------------- URLs and isolation


def test_root_goes_to_the_first_environment_and_an_unknown_one_is_a_404(app3):
    client = app3.test_client()
    # Issue 23: to the first environment's landing page, the recent past.
    assert client.get("/").headers["Location"].endswith("/dev/")
    unknown = client.get("/qa/events")
    assert unknown.status_code == 404 and "dev, staging, prod" in unknown.get_data(as_text=True)
    assert client.get("/events").status_code == 404


def test_links_of_each_environment_stay_in_it(app3):
    client = app3.test_client()
    page = client.get("/staging/events?limit=10").get_data(as_text=True)
    assert (link(page, "next") or "").startswith("/staging/events?")
    detail = client.get("/staging/events/staging-0001?back=/events?limit%3D10").get_data(as_text=True)
    assert 'href="/staging/events?limit=10" data-back' in detail


@pytest.mark.parametrize("name", NAMES)
def test_every_page_of_an_environment_reads_only_its_own_table(app3, three_tables, name):
    asked = tables_asked(app3)
    client = app3.test_client()
    pages = [f"/{name}/events", f"/{name}/events?timestamp={SECOND}", f"/{name}/events?event_type=test",
             f"/{name}/events?from={SECOND}&to=2024-01-01T00:00:09Z", f"/{name}/events/{name}-0003",
             f"/{name}/status", f"/{name}/api/events", f"/{name}/api/events/{name}-0003", f"/{name}/api/status",
             f"/{name}/healthz", f"/healthz?env={name}"]
    # prod refuses the insert form (a production environment is locked): it reads nothing for it either.
    pages += [f"/{name}/events/new?copy={name}-0003"] if name != "prod" else []
    for path in pages:
        assert client.get(path).status_code == 200, path
    own_table = three_tables[name][0]
    assert asked[name] and set(asked[name]) == {own_table}
    assert all(not calls for other, calls in asked.items() if other != name), asked


def test_a_cursor_from_one_environment_is_a_400_in_another(app3):
    client = app3.test_client()
    cursor = client.get("/dev/api/events?limit=5").get_json()["next_cursor"]
    assert client.get(f"/dev/api/events?limit=5&cursor={cursor}").status_code == 200
    refused = client.get(f"/staging/api/events?limit=5&cursor={cursor}")
    assert refused.status_code == 400 and "another environment" in refused.get_json()["message"]


def test_a_stopped_endpoint_answers_its_own_503_while_the_others_answer(tmp_path, moto_endpoint):
    with moto_server() as doomed:
        tables = {"dev": (make_table(moto_endpoint, "dev", 3), moto_endpoint),
                  "staging": (make_table(moto_endpoint, "staging", 3), moto_endpoint),
                  "prod": (make_table(doomed, "prod", 3), doomed)}
        app = three_environments(tmp_path, tables)
        client = app.test_client()
        assert client.get("/prod/events").status_code == 200
    # The prod endpoint is gone now.
    for _ in range(2):
        assert client.get("/prod/events").status_code == 503
        assert client.get("/prod/healthz").status_code == 503
        assert client.get("/dev/events").status_code == 200
        assert client.get("/staging/api/events").status_code == 200
    assert client.get("/healthz?env=prod").status_code == 503
    assert client.get("/healthz?env=dev").status_code == 200
    overall = client.get("/healthz")
    assert overall.status_code == 200 and overall.get_json() == {
        "status": "degraded", "environments": {"dev": "ok", "staging": "ok", "prod": "unavailable"}}
    assert client.get("/healthz?env=qa").status_code == 404


def test_an_environment_whose_profile_is_missing_answers_its_own_503(tmp_path, three_tables):
    config = write_config(tmp_path, environments_toml(three_tables, staging={"profile": "no-such-profile"}))
    client = create_app(settings_with(DASHBOARD_CONFIG=config)).test_client()
    failed = client.get("/staging/api/events")
    assert failed.status_code == 503 and "no-such-profile" in failed.get_json()["message"]
    assert client.get("/dev/api/events").status_code == 200 and client.get("/prod/api/events").status_code == 200
    assert client.get("/healthz").get_json()["environments"] == {"dev": "ok", "staging": "unavailable", "prod": "ok"}


def test_each_environment_has_clients_of_its_own_built_on_first_use(app3):
    found = app3.extensions["environments"]
    assert all(found.built(environment) is None for environment in found.all)
    app3.test_client().get("/staging/api/events")
    assert [found.built(environment) is not None for environment in found.all] == [False, True, False]
    dev, staging = found.table(found.by_name["dev"]), found.built(found.by_name["staging"])
    assert dev.clients.dynamodb is not staging.clients.dynamodb


# ------------------------------------------------------------------------------------------- header, lock, confirm


def switcher(page: str) -> dict[str, str]:
    """The switcher's links: environment name -> href."""
    return {name: html.unescape(href) for href, name in
            re.findall(r'<a href="([^"]*)" data-env-link="([^"]+)"', page)}


def test_the_switcher_keeps_search_range_and_filters_and_drops_the_cursor(app3):
    client = app3.test_client()
    query = "from=2024-01-01T00:00:00Z&to=2024-01-01T00:00:01Z&event_type=test&limit=5"
    first = client.get(f"/dev/events?{query}").get_data(as_text=True)
    following = link(first, "next")
    assert following and "cursor=" in following
    page = client.get(following).get_data(as_text=True)
    links = switcher(page)
    assert list(links) == list(NAMES)
    for name, href in links.items():
        path, _, kept = href.partition("?")
        assert path == f"/{name}/events" and parse_qs(kept) == parse_qs(query), href
    detail = switcher(client.get("/dev/events/dev-0002?back=/events").get_data(as_text=True))
    assert detail["prod"] == "/prod/events/dev-0002"


def test_identity_is_in_the_header_and_the_title(app3, three_tables):
    client = app3.test_client()
    response = client.get("/staging/events")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert fact(page, "env-name") == "staging" and fact(page, "env-table") == three_tables["staging"][0]
    assert fact(page, "env-region") == "us-east-1" and fact(page, "env-account") == "123456789012"
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found
    title = found.group(1)
    assert "staging (123456789012 us-east-1)" in title and three_tables["staging"][0] in title
    assert "PRODUCTION" not in title and "data-production" not in page and "favicon.svg" in page


def test_a_production_environment_has_a_red_band_and_favicon_on_every_page(app3):
    client = app3.test_client()
    for path in ("/prod/events", "/prod/status", "/prod/events/prod-0001", "/prod/events/missing"):
        page = client.get(path).get_data(as_text=True)
        assert "data-production" in page and "favicon-production.svg" in page, path
        assert "<title>" in page and "PRODUCTION prod" in page, path
    assert "data-production" not in client.get("/dev/events").get_data(as_text=True)


def test_a_post_in_a_locked_production_environment_is_a_403_and_writes_nothing(app3):
    client = app3.test_client()
    token = csrf_field(client.get("/dev/events/new").get_data(as_text=True))
    page = client.get("/prod/events").get_data(as_text=True)
    assert "Insert test event" not in page and "read-only" in page
    assert client.get("/prod/events/new").status_code == 403
    refused = client.post("/prod/events", data={"csrf_token": token, "event_id": "written-in-prod",
                                                "event_type": "test", "timestamp": SECOND})
    assert refused.status_code == 403 and "Writes are off in the production environment prod" in error_message(
        refused.get_data(as_text=True))
    assert client.get("/prod/api/events/written-in-prod").status_code == 404
    assert "data-insert-copy" not in client.get("/prod/events/prod-0001").get_data(as_text=True)


def test_a_production_environment_that_allows_writes_asks_to_type_its_name(tmp_path, three_tables):
    app = three_environments(tmp_path, three_tables, prod={"production": True, "writes": True})
    client = app.test_client()
    form = client.get("/prod/events/new").get_data(as_text=True)
    assert 'name="confirm_environment"' in form and "Type prod to insert into production" in form
    token = csrf_field(form)
    event_id = f"confirmed-{uuid.uuid4().hex[:8]}"
    fields = {"csrf_token": token, "event_id": event_id, "event_type": "test", "timestamp": SECOND}
    for typed in ("", "dev", "Prod"):
        wrong = client.post("/prod/events", data={**fields, "confirm_environment": typed})
        page = wrong.get_data(as_text=True)
        assert wrong.status_code == 422 and 'id="confirm_environment-error"' in page, typed
        assert 'data-field="confirm_environment"' in page and "type prod" in page
        assert client.get(f"/prod/api/events/{event_id}").status_code == 404
    written = client.post("/prod/events", data={**fields, "confirm_environment": "prod"})
    assert written.status_code == 303 and written.headers["Location"] == f"/prod/events/{event_id}"
    assert client.get(f"/prod/api/events/{event_id}").get_json()["event_id"] == event_id


def test_a_non_production_environment_writes_without_confirmation(app3):
    client = app3.test_client()
    form = client.get("/dev/events/new").get_data(as_text=True)
    assert "confirm_environment" not in form
    event_id = f"dev-written-{uuid.uuid4().hex[:8]}"
    written = client.post("/dev/events", data={"csrf_token": csrf_field(form), "event_id": event_id,
                                               "event_type": "test", "timestamp": SECOND})
    assert written.status_code == 303 and written.headers["Location"] == f"/dev/events/{event_id}"
    assert client.get(f"/staging/api/events/{event_id}").status_code == 404


def test_flask_commands_choose_an_environment_with_env(moto_endpoint):
    project = f"p{uuid.uuid4().hex[:10]}"
    app = create_app(settings_with(PROJECT=project, ENVIRONMENTS="dev,prod", AWS_ENDPOINT_URL_DYNAMODB=moto_endpoint))
    runner = app.test_cli_runner()
    created = runner.invoke(args=["create-table", "--no-pitr", "--env", "prod"])
    assert created.exit_code == 0 and f"Created table {project}-prod-events" in created.output
    seeded = runner.invoke(args=["seed-demo", "--count", "5", "--env", "prod"])
    assert seeded.exit_code == 0 and f"Wrote 5 demo events to {project}-prod-events" in seeded.output
    unknown = runner.invoke(args=["create-table", "--env", "qa"])
    assert unknown.exit_code == 2 and "no environment 'qa': choose one of dev, prod" in unknown.output
    first = runner.invoke(args=["create-table", "--no-pitr"])
    assert first.exit_code == 0 and f"Created table {project}-dev-events" in first.output


def test_shared_lookups_answer_for_the_requests_environment_and_the_first_outside_one(app3, three_tables):
    assert app3.config["SETTINGS"].table_name == three_tables["dev"][0]
    assert app3.extensions["events_table"].name == three_tables["dev"][0]
    with app3.test_request_context("/prod/events", environ_base={"dashboard.environment": "prod"}):
        assert app3.config["SETTINGS"].table_name == three_tables["prod"][0]
        assert app3.extensions["events_table"].name == three_tables["prod"][0]
        assert app3.config["SETTINGS"].read_only and app3.extensions["events_cursors"].environment == "prod"
