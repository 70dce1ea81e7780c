"""Evidence collection: from where the scan found the logs, only what the window needs."""
