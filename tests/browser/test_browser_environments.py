"""Environments in the browser: the switcher keeps what htmx searched, the production band, axe and screenshots."""
from __future__ import annotations

import os
import re
import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import LAPTOP, SCREENSHOTS, phone, row_ids
from tests.browser.test_browser_accessibility import serious_violations
from tests.browser.test_browser_screenshots import DOCS, shoot
from tests.conftest import DEMO_DAY, SECRET, LiveServer, admin, put_items, settings_for, unique_table

pytestmark = pytest.mark.browser

NAMES = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def environments_url(moto_endpoint, tmp_path_factory):
    """A dashboard of three environments on the HTTP server (prod marked production), each with its own demo data."""
    from dashboard.app import create_app
    from dashboard.app.demo import demo_events
    from dashboard.settings.config import Settings
    from dashboard.store import Table

    blocks = []
    for number, name in enumerate(NAMES):
        table_name = unique_table()
        table = Table.open(settings_for(table_name, moto_endpoint))
        admin(table).create_table(point_in_time_recovery=False)
        put_items(table, ({**event, "event_id": f"{name}-{event['event_id']}"}
                          for event in demo_events(80, DEMO_DAY, seed=20 + number)))
        blocks.append(f'[environments.{name}]\ntable = "{table_name}"\nendpoint = "{moto_endpoint}"\n'
                      + ("production = true\n" if name == "prod" else ""))
    config = tmp_path_factory.mktemp("environments") / "dashboard.toml"
    config.write_text("\n".join(blocks))
    app = create_app(Settings.from_env({"SECRET_KEY": SECRET, "DASHBOARD_AUTH": "off",
                                        "DASHBOARD_CONFIG": str(config)}))
    server = LiveServer(app).start()
    yield server.url
    server.stop()


def test_the_switcher_opens_the_same_search_in_another_environment(new_context, environments_url):
    page = new_context(origin=environments_url).new_page()
    page.goto("/dev/events")
    page.fill("#from", "2024-01-01T00:00:00Z")
    page.fill("#to", "2024-01-01T12:00:00Z")
    page.locator("details.filter-fields summary").click()  # the fields fold under the query box (issue 24)
    page.fill("#filter-event_type", "s3")
    page.locator("form.search button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"event_type=s3"))
    dev_rows = row_ids(page)
    assert dev_rows and all(row.startswith("dev-") for row in dev_rows)
    searched = parse_qs(urlsplit(page.url).query)
    page.locator("[data-env-link=staging]").click()
    expect(page.locator("[data-env-name]")).to_have_text("staging")
    address = urlsplit(page.url)
    assert address.path == "/staging/events"
    kept = parse_qs(address.query)
    assert {name: kept.get(name) for name in ("from", "to", "event_type")} == {
        name: searched.get(name) for name in ("from", "to", "event_type")}
    assert "cursor" not in kept
    expect(page.locator("#filter-event_type")).to_have_value("s3")
    assert all(row.startswith("staging-") for row in row_ids(page))


def test_production_wears_a_red_band_and_favicon_and_offers_no_insert(new_context, environments_url):
    page = new_context(origin=environments_url).new_page()
    page.goto("/prod/events")
    band = page.locator("[data-production]")
    expect(band).to_be_visible()
    expect(band).to_contain_text("Production: prod")
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", "/prod/static/favicon-production.svg")
    expect(page).to_have_title(re.compile(r"^Events · PRODUCTION prod "))
    expect(page.get_by_role("link", name="Insert test event")).to_have_count(0)
    colour = band.evaluate("element => getComputedStyle(element).backgroundColor")
    red, green, blue = (int(part) for part in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    assert red > 150 and green < 60 and blue < 60, colour
    page.goto("/staging/events")
    expect(page.locator("[data-production]")).to_have_count(0)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_the_environment_header(new_context, environments_url, scheme):
    for options in ({"viewport": LAPTOP}, phone()):
        page = new_context(origin=environments_url, color_scheme=scheme, **options).new_page()
        for path in ("/prod/events", "/staging/status"):
            page.goto(path)
            expect(page.locator("[data-env-name]")).to_be_visible()
            assert serious_violations(page) == [], (path, scheme, options)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_switcher_and_the_production_band(new_context, environments_url, scheme):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if scheme == "light" else "-dark"
    page = new_context(origin=environments_url, color_scheme=scheme, viewport=LAPTOP).new_page()
    page.goto("/prod/events")
    expect(page.locator("[data-production]")).to_be_visible()
    shoot(page, f"environments-production{suffix}")
    page.goto("/staging/events")
    expect(page.locator("[data-env-link=staging]")).to_have_attribute("aria-current", "true")
    shoot(page, f"environments-switcher{suffix}")
    small = new_context(origin=environments_url, color_scheme=scheme, **phone()).new_page()
    small.goto("/prod/events")
    shoot(small, f"environments-production-phone{suffix}")
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        for name in ("environments-production", "environments-switcher", "environments-production-phone"):
            shutil.copyfile(SCREENSHOTS / f"{name}{suffix}.png", DOCS / f"{name}{suffix}.png")
