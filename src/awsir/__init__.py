"""awsir: AWS incident readiness and response.

Are we ready for an incident (which logs exist, are they kept, can the responder read them)?
And what happened (collect, parse, search)? See README.md and docs/.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("awsir")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
