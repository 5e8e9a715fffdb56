"""Reading the dashboard's HTML the way a script or a reviewer would: rows, pager links, fields."""
from __future__ import annotations

import html
import re

_ROW = re.compile(r'<tr data-event-id="([^"]*)"')
_LINK = r'<a rel="{rel}"[^>]*\shref="([^"]*)"'


def row_ids(page: str) -> list[str]:
    return [html.unescape(value) for value in _ROW.findall(page)]


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def fact(page: str, name: str) -> str:
    """The text of the element marked `data-{name}`, tags stripped: what a reader sees there."""
    match = re.search(rf"<(\w+)[^>]*\sdata-{name}(?:=\"[^\"]*\")?[^>]*>(.*?)</\1>", page, re.S)
    assert match, f"the page has no data-{name} element"
    return _text(match.group(2))


def error_message(page: str) -> str:
    """What an error page tells the reader went wrong (its status and title aside)."""
    match = re.search(r'<p class="error-message">(.*?)</p>', page, re.S)
    assert match, "the page is not an error page"
    return _text(match.group(1))


def marked_link(page: str, name: str) -> str | None:
    """The href of the link marked `data-{name}`, such as the detail page's data-same-second."""
    match = re.search(rf'<a\s[^>]*href="([^"]*)"[^>]*\sdata-{name}[\s>]', page)
    return html.unescape(match.group(1)) if match else None


def findings(page: str) -> list[tuple[str, str]]:
    """The status page's findings at a glance, in order: (level, message), the badge's label left out."""
    return [(level, _text(message)) for level, message in
            re.findall(r'<li class="finding finding-(\w+)"><span class="badge[^"]*">[^<]*</span>(.*?)</li>', page)]


def link(page: str, rel: str) -> str | None:
    match = re.search(_LINK.format(rel=rel), page)
    return html.unescape(match.group(1)) if match else None


def walk(client, url: str, rel: str = "next", limit: int = 500) -> list[tuple[str, list[str]]]:
    """Follow rel links from `url`: (url, row ids) of each page visited."""
    visited: list[tuple[str, list[str]]] = []
    current: str | None = url
    while current and len(visited) < limit:
        response = client.get(current)
        assert response.status_code == 200, (current, response.status_code)
        text = response.get_data(as_text=True)
        visited.append((current, row_ids(text)))
        current = link(text, rel)
    return visited
