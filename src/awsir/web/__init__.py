"""The web dashboard (``awsir serve``): readiness, sources, search, timeline, detections and
collection, rendered on the server."""
