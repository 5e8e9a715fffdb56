"""What a form POST carries, read as text: bytes that are not UTF-8, JSON of the wrong shape and file
uploads become errors beside their fields (or a 400), never a 500 or a misleading CSRF failure."""
from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, g, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest

NOT_UTF8 = "holds bytes that are not UTF-8 text: type it again"
NOT_TEXT = "must be text (a JSON string)"
A_FILE = "must be typed text, not an uploaded file"


def _decoded(raw: bytes) -> tuple[str, bool]:
    """A urlencoded name or value as text, and whether it was valid UTF-8 (else with U+FFFD in its place)."""
    data = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), False


def read_urlencoded() -> None:
    """Before CSRF protection reads the form: werkzeug drops a whole body that holds a non-UTF-8 byte
    (the form then 'lacks' its CSRF token) and keeps an escape such as %FF literally. Read it here instead,
    every field kept, and note the fields whose bytes are not text."""
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        return
    pairs, undecodable = [], []
    for part in request.get_data(cache=True).split(b"&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition(b"=")
        (name, name_ok), (value, value_ok) = _decoded(raw_name), _decoded(raw_value)
        pairs.append((name, value))
        if not (name_ok and value_ok):
            undecodable.append(name)
    if undecodable:
        # werkzeug's cached properties take an assigned value; a urlencoded body carries no files.
        request.form = ImmutableMultiDict(pairs)
        request.files = ImmutableMultiDict()
        g.undecodable_fields = undecodable


def fields() -> tuple[MultiDict[str, str], dict[str, str]]:
    """The posted fields as text, and an error for each field that was sent as something else."""
    problems: dict[str, str] = {}
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest('A JSON body must be one object of field names and strings, such as '
                             '{"event_id": "e-1", "event_type": "test", "timestamp": "2024-01-01T00:00:00Z"}.')
        posted: MultiDict[str, str] = MultiDict()
        for name, value in body.items():
            if isinstance(value, str):
                posted.add(name, value)
            else:
                problems[name] = NOT_TEXT
        return posted, problems
    for name in request.files:
        problems[name] = A_FILE
    for name in g.get("undecodable_fields", ()):
        problems[name] = NOT_UTF8
    return MultiDict(request.form), problems


def register(app: Flask) -> None:
    """Call before CSRFProtect(app): its check reads the form this prepares."""
    app.before_request(read_urlencoded)
