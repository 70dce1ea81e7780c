"""Reading AWS log files: format definitions (``sources/<id>/parse.yaml``) and, next, parsers."""
