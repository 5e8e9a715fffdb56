"""`python -m dashboard.local` (what `make run` runs): the dashboard on the embedded DynamoDB with demo data."""
import sys

from .server import main

sys.exit(main())
