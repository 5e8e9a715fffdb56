"""What a bad configuration raises, and the checks that both Settings and the environments' definitions apply."""
from __future__ import annotations

import re

# DynamoDB's own rule for table names.
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class ConfigError(ValueError):
    """The environment does not describe a dashboard that can start."""


def check_table_name(table_name: str, name: str) -> None:
    if not _TABLE_NAME.match(table_name):
        raise ConfigError(
            f"{name} {table_name!r} is not a DynamoDB table name "
            "(3-255 characters: letters, digits, '_', '-', '.')"
        )
