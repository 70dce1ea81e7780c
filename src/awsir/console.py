"""The two consoles every command prints to: results on stdout, everything else on stderr."""

from rich.console import Console

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)
