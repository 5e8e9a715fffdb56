"""What gunicorn and `flask --app wsgi:app` load: the dashboard configured from the environment."""
import sys

from dashboard import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"events dashboard cannot start: {error}")
