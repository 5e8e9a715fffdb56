"""Request wiring that knows Flask and never boto3: views, environments, sign-in, audit, forms and rows."""
