"""The two kinds of bad input, each reported to the user in one line (exit status 2)."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A problem with an input file or value, reported as ``file: key: what was expected``.

    ``file`` is "command line" for an option's value.
    """

    def __init__(self, file: str | Path, key: str, message: str) -> None:
        self.file, self.key, self.message = printable(str(file)), printable(key), printable(message)
        super().__init__(f"{self.file}: {self.key}: {self.message}" if key else f"{self.file}: {self.message}")


class UsageError(Exception):
    """A problem with the command line or the file system that no single key explains (an occupied --out)."""


def printable(text: str) -> str:
    """``text`` with control characters escaped, so a message quoting the user's input stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
