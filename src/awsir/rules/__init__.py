"""awsir's own Sigma rules, one ``.yml`` each, grouped by the logs they read, each with its
positive and negative case next to it (``<id>.positive.*``, ``<id>.negative.*``)."""
