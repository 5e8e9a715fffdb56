"""Which attributes a listing's table shows (`columns=timestamp,event_id,source,size`): the default is the nine
of web/rows.py; any top-level attribute may be named, in the order given."""
from __future__ import annotations

import re
from collections.abc import Mapping

from werkzeug.exceptions import BadRequest

MAX_COLUMNS = 20
_NAME = re.compile(r"\A[A-Za-z_][A-Za-z0-9_.:-]{0,254}\Z")


def parse(args: Mapping[str, str]) -> tuple[str, ...]:
    """The columns asked for, once each, in order; none for the default table. A list form sends one per box."""
    getlist = getattr(args, "getlist", None)
    raw = ",".join(getlist("columns")) if getlist else args.get("columns") or ""
    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    odd = next((name for name in names if not _NAME.match(name)), None)
    if odd is not None or len(names) > MAX_COLUMNS:
        raise BadRequest(f"columns must be up to {MAX_COLUMNS} attribute names separated by commas, not {raw!r}")
    return names
