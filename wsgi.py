"""What gunicorn and `flask --app wsgi:app` load: the dashboard configured from the environment."""
import sys

from dashboard import ConfigError, create_app

# gunicorn halts when a worker exits with its boot-error code, 3, and restarts a worker that exits with any other
# (a bad configuration would then restart workers forever); `flask run` exits non-zero either way.
BOOT_ERROR = 3

try:
    app = create_app()
except ConfigError as error:
    print(f"events dashboard cannot start: {error}", file=sys.stderr, flush=True)
    sys.exit(BOOT_ERROR)
