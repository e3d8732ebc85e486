"""The two kinds of bad input, each reported to the user in one line (exit status 2); and how any text of the user's
is shown (:func:`printable`, :func:`escaped`, :data:`ESCAPE`), whatever it holds."""

from __future__ import annotations

import codecs
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
    shown = "".join(c if c.isprintable() else _escape(c) for c in text)
    return shortened(" ".join(shortened(word, MAX_QUOTED) for word in shown.split(" ")), MAX_ERROR_LINE)


def escaped(text: str) -> str:
    """``text`` as UTF-8 can hold it: the bytes of a path that are not text (Python reads the byte 0xff of a file's
    name as the surrogate escape U+DCFF) written as the shell writes them (``\\xff``), any other surrogate as
    ``\\udNNN``; nothing else changed."""
    return text.encode("utf-8", ESCAPE).decode("utf-8")


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else repr(character)[1:-1]


def _escaping(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    unencodable = error.object[error.start:error.end]
    return "".join(_escape(c) if 0xD800 <= ord(c) <= 0xDFFF else c.encode("ascii", "backslashreplace").decode()
                   for c in unencodable), error.end


#: The codecs' error handler that writes what an encoding cannot hold escaped (:func:`escaped`; a character another
#: encoding lacks as ``\\uNNNN``): the command line's output streams use it, so that no path stops a command.
ESCAPE = "sco-sim-escape"
codecs.register_error(ESCAPE, _escaping)


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
