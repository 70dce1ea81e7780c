"""The only code that calls AWS: read-only boto3, one module per service."""
