"""``python -m awsir`` is the same as the ``awsir`` command."""

from awsir.cli import main

main()
