"""The events dashboard: a Flask app to look inside a DynamoDB events table. Layers: docs/ARCHITECTURE.md.

`create_app` lives in dashboard.app; it is re-exported here so that `from dashboard import create_app` holds.
"""
from dashboard.app import create_app
from dashboard.settings.config import ConfigError, Settings

__all__ = ["create_app", "ConfigError", "Settings"]
