"""The embedded local DynamoDB (moto's server over real HTTP) filled with demo data: `make run` and tests only."""
from .server import local_environment, main, start_server

__all__ = ["local_environment", "main", "start_server"]
