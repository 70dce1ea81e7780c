"""Readiness checks: ``<service>/<id>.py``, each with ``<id>.cases.yaml`` beside it."""
