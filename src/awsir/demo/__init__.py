"""``awsir demo``: an emulated account, an intrusion in its logs, and the whole chain on it."""
