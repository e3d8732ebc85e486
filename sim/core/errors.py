"""The two kinds of bad input, each reported to the user in one line (exit status 2)."""

from __future__ import annotations

from pathlib import Path

from .vocabulary import MAX_ERROR_LINE, MAX_QUOTED


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
    """``text`` as a short line, whatever the user's input in it: control characters escaped (so that it stays one
    line), every word (a value, a key, a path: a run between spaces) cut to :data:`MAX_QUOTED` characters and the
    whole to :data:`MAX_ERROR_LINE`, each in its middle (so that both its ends show)."""
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shortened(" ".join(shortened(word, MAX_QUOTED) for word in escaped.split(" ")), MAX_ERROR_LINE)


def quoted(value: object) -> str:
    """``value`` as a message quotes it (its ``repr``), with its length where it is cut (``'RRR...RRR', 900,000
    characters``)."""
    text = repr(value)
    if len(text) <= MAX_QUOTED:
        return text
    return f"{shortened(text, MAX_QUOTED // 2)}, {len(value) if isinstance(value, str) else len(text):,} characters"


def shortened(text: str, most: int) -> str:
    """``text`` cut to ``most`` characters in its middle, ``...`` marking the cut."""
    if len(text) <= most:
        return text
    head = (most - 3) * 2 // 3
    return text[:head] + "..." + text[len(text) - (most - 3 - head):]
