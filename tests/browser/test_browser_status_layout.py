"""The status page as ops read it in an incident: health and PITR first, panels as tall as what they hold."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import phone

pytestmark = pytest.mark.browser


def test_health_and_pitr_lead_and_pitr_is_above_the_fold_on_a_phone(new_context):
    page = new_context(**phone()).new_page()
    page.goto("/status")
    panels = page.locator(".panels > section").evaluate_all("ps => ps.map(p => p.dataset.panel)")
    assert panels[0] == "pitr", panels
    status = page.locator("[data-pitr-status]").bounding_box()
    assert status["y"] + status["height"] <= page.viewport_size["height"], "PITR's status is below the fold"
    # The table's name has a line of its own: never split over two.
    name = page.locator(".page-head h1 code")
    assert name.evaluate("c => c.getClientRects().length") == 1


def test_panels_take_the_height_of_their_content(page):
    page.goto("/status")
    slack = page.locator(".panels > section.panel:not(.panel-wide)").evaluate_all("""ps => ps.map(p => {
        const last = p.lastElementChild.getBoundingClientRect(), box = p.getBoundingClientRect();
        return [p.dataset.panel, Math.round(box.bottom - last.bottom)]; })""")
    assert all(gap < 40 for _, gap in slack), f"empty space under a panel's content: {slack}"


def test_dates_key_schema_and_arn_never_break_inside_a_word(page):
    page.goto("/status")
    for time in page.locator(".kv time").all():
        assert time.evaluate("t => t.getClientRects().length") == 1, time.inner_text()
    arn = page.locator("[data-arn]")
    expect(arn).to_contain_text("arn:aws:dynamodb:")
    # Lines of the ARN end only at a ':' or '/' (each followed by a <wbr>), never mid-word.
    ends = arn.evaluate("""code => {
        const range = document.createRange(), text = code.textContent, ends = [];
        let top = null;
        const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
        let offset = 0, node;
        while ((node = walker.nextNode())) {
          for (let i = 0; i < node.length; i++) {
            range.setStart(node, i); range.setEnd(node, i + 1);
            const y = range.getBoundingClientRect().top;
            if (top !== null && y > top + 2) ends.push(text[offset + i - 1]);
            top = y;
          }
          offset += node.length;
        }
        return ends; }""")
    assert all(char in ":/" for char in ends), f"the ARN breaks after {ends}"


def test_with_describe_table_denied_every_unanswered_panel_is_labelled(new_context, switchable_status):
    page = new_context(origin=switchable_status).new_page()
    page.goto("/status")
    notes = page.locator("[data-unavailable]")
    expect(notes.first).to_be_visible()
    labels = notes.evaluate_all("""ns => ns.map(n => {
        const dd = n.closest('dd');
        if (dd) { let dt = dd.previousElementSibling; return dt && dt.tagName === 'DT' ? dt.textContent : ''; }
        const panel = n.closest('section'); const first = panel.querySelector('h2, h3');
        return first ? first.textContent : ''; })""")
    assert labels and all(labels), f"an unavailable note without a label: {labels}"


@pytest.fixture(scope="module")
def switchable_status(rigged_dashboard):
    """A dashboard whose DescribeTable is always denied; the other status calls answer."""
    from tests.conftest import answer

    app, url = rigged_dashboard()
    # Denied, not down: a DynamoDB that does not answer at all is a 503 for the whole page.
    answer(app.extensions["events_table"].clients.dynamodb, "DescribeTable", error="AccessDeniedException")
    return url
