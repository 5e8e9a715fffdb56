"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Page cursors carry the way back through up to 100 earlier pages; long ids make a long URL.
limit_request_line = 8190
# A DynamoDB call gives up in seconds (see store._client_config); a request should never get near this.
timeout = 30
accesslog = "-"
