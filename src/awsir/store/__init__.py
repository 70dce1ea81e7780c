"""The evidence lake of a case: ingest, catalog of views, queries."""
