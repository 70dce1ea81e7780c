"""Names the lake's files and views share (one place, so no module imports another for them)."""

EVENTS = "events"
"""The view of every table's common columns."""
PARTITIONS = {"account_id": "VARCHAR", "region": "VARCHAR", "day": "DATE"}
"""Hive partition keys of the lake (folder names), with their types."""
CLUSTER_BY = ("actor", "src_ip", "time")
"""The sort order of rows inside each lake file: who, from where, when. Timelines and pivots ask
for one principal or one address; sorted this way, its rows sit in a few row groups."""
