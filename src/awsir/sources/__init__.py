"""The catalog of AWS log sources: one folder per source, ``<id>/source.yaml``.

The folder name is the source id. :mod:`awsir.sources.schema` defines every field a card holds;
:mod:`awsir.catalog` loads and validates them through :mod:`awsir.registry`.
"""
