"""auth.py and the settings behind it: who may use the dashboard, and that it never starts open by accident."""
import base64
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from dashboard.app import create_app
from dashboard.settings.config import ConfigError, Settings
from tests.conftest import csrf_field, csrf_token, settings_for

ROOT = Path(__file__).resolve().parent.parent
KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
USERS = f"alice:{generate_password_hash('correct horse')},bob:{generate_password_hash('battery staple')}"


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


@pytest.fixture
def signed_in_app(table):
    return create_app(settings_for(table.name, DASHBOARD_USERS=USERS), table=table)


@pytest.mark.parametrize("url", ["/events", "/events/x", "/status", "/api/events", "/api/status", "/events/new"])
@pytest.mark.parametrize("headers", [{}, basic("alice", "wrong"), basic("mallory", "correct horse"),
                                     {"Authorization": "Bearer abc"}])
def test_without_the_right_credentials_every_page_is_401_with_a_basic_challenge(signed_in_app, url, headers):
    response = signed_in_app.test_client().get(url, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="events dashboard"')


def test_a_write_without_credentials_is_401_and_nothing_is_written(signed_in_app, table):
    response = signed_in_app.test_client().post("/events", data={"event_id": "x", "timestamp": "2024-01-01T00:00:00Z"})
    assert response.status_code == 401
    assert table.events.page(10).events == []


def test_a_user_signs_in_and_sees_their_name_in_the_header(signed_in_app):
    client = signed_in_app.test_client()
    page = client.get("/events", headers=basic("alice", "correct horse"))
    assert page.status_code == 200
    assert '<span class="signed-in" data-user>Signed in as <bdi>alice</bdi></span>' in page.get_data(as_text=True)
    assert client.get("/api/events", headers=basic("bob", "battery staple")).status_code == 200


def test_healthz_and_static_files_stay_open_and_show_no_data(signed_in_app, table):
    client = signed_in_app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json() == {"status": "ok"}
    assert client.get("/static/app.css").status_code == 200


def test_an_sso_header_names_the_user_and_its_absence_is_401(table):
    app = create_app(settings_for(table.name, DASHBOARD_AUTH_HEADER="X-Auth-Request-User"), table=table)
    client = app.test_client()
    assert client.get("/events").status_code == 401
    assert "WWW-Authenticate" not in client.get("/events").headers
    page = client.get("/events", headers={"X-Auth-Request-User": "carol@example.com"})
    assert page.status_code == 200 and "carol@example.com</bdi>" in page.get_data(as_text=True)


def test_every_insert_attempt_is_audited_with_the_user(signed_in_app, table, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.audit")
    client = signed_in_app.test_client()
    auth = basic("alice", "correct horse")
    token = csrf_field(client.get("/events/new", headers=auth).get_data(as_text=True))
    form = {"csrf_token": token, "event_id": "audited", "event_type": "t", "timestamp": "2024-01-01T00:00:00Z"}
    assert client.post("/events", data=form, headers={**auth, "X-Request-Id": "req-42"}).status_code == 303
    assert client.post("/events", data=form, headers=auth).status_code == 409
    assert client.post("/events", data={**form, "timestamp": "soon"}, headers=auth).status_code == 422
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dashboard.audit"]
    assert [(line["user"], line["event_id"], line["outcome"]) for line in lines] == [
        ("alice", "audited", "written"), ("alice", "audited", "duplicate"), ("alice", "audited", "invalid")]
    assert lines[0]["request_id"] == "req-42" and lines[1]["request_id"] != lines[2]["request_id"]


def test_auth_off_is_open_and_says_so_in_the_log(table, caplog):
    with caplog.at_level(logging.WARNING, logger="dashboard.web.auth"):
        app = create_app(settings_for(table.name), table=table)
    assert app.test_client().get("/events").status_code == 200
    assert "sign-in is OFF" in caplog.text


def test_without_any_sign_in_the_app_refuses_to_start():
    with pytest.raises(ConfigError, match="DASHBOARD_USERS.*DASHBOARD_AUTH_HEADER.*DASHBOARD_AUTH=off"):
        Settings.from_mapping({"SECRET_KEY": KEY})
    # Only the embedded local mode is open by default, and no variable turns it on.
    assert Settings.from_mapping({}, local=True).auth_mode == "local"
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_mapping({"DASHBOARD_LOCAL": "1"})


def test_wsgi_refuses_to_start_open_under_gunicorn_or_flask():
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": KEY, "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "no sign-in is configured" in result.stderr


@pytest.mark.parametrize("overrides,named", [
    ({"DASHBOARD_USERS": "alice:plaintext"}, "DASHBOARD_USERS"),
    ({"DASHBOARD_USERS": USERS, "DASHBOARD_AUTH_HEADER": "X-User"}, "only one"),
    ({"DASHBOARD_AUTH": "maybe"}, "DASHBOARD_AUTH"),
    ({"DASHBOARD_AUTH_HEADER": "X User"}, "DASHBOARD_AUTH_HEADER"),
    ({"DASHBOARD_AUTH": "off", "SECRET_KEY": "a" * 16}, "SECRET_KEY"),
    ({"DASHBOARD_AUTH": "off", "SECRET_KEY": "ab" * 16}, "SECRET_KEY"),
    ({"DASHBOARD_AUTH": "off", "TRUST_PROXY": "yes"}, "TRUST_PROXY"),
])
def test_unsafe_or_unclear_settings_are_refused_by_name(overrides, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_mapping({"SECRET_KEY": KEY, **overrides})


def test_flask_hash_password_prints_a_hash_that_signs_in(table):
    runner = create_app(settings_for(table.name), table=table).test_cli_runner()
    printed = runner.invoke(args=["hash-password", "--password", "s3cret pass"]).output.strip()
    app = create_app(settings_for(table.name, DASHBOARD_USERS=f"dana:{printed}"), table=table)
    assert app.test_client().get("/events", headers=basic("dana", "s3cret pass")).status_code == 200


def test_a_post_from_another_origin_is_refused(client, table):
    token = csrf_token(client)
    form = {"csrf_token": token, "event_id": "x", "event_type": "t", "timestamp": "2024-01-01T00:00:00Z"}
    refused = client.post("/events", data=form, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and table.events.page(10).events == []
    assert client.post("/events", data=form, headers={"Origin": "http://localhost"}).status_code == 303


def test_forwarded_headers_count_only_when_trust_proxy_says_so(table):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dash.example", "Origin": "https://dash.example"}
    for trust, expected in (("0", 403), ("1", 303)):
        client = create_app(settings_for(table.name, TRUST_PROXY=trust), table=table).test_client()
        page = client.get("/events/new", headers=forwarded)
        assert ("Secure" in page.headers.get("Set-Cookie", "")) == (trust == "1")
        token = csrf_field(page.get_data(as_text=True))
        form = {"csrf_token": token, "event_id": f"fwd-{trust}", "event_type": "t", "timestamp": "2024-01-01T00:00:00Z"}
        assert client.post("/events", data=form, headers={**forwarded, "Referer": "https://dash.example/events/new"}
                           ).status_code == expected
