"""Names and limits shared by the command line and the model, in a module that imports nothing heavy.

The command line reads these to build its parser; keeping them here lets it start (and fork sweep
workers) before numpy, pandas or Mesa are loaded.
"""

from __future__ import annotations

from pathlib import Path

#: The decision rules of :mod:`sim.engine`.
RULES = ("consensus", "consensus_minus_one", "two_thirds", "majority", "capability_majority")
#: The sweep designs of :mod:`sim.design`.
METHODS = ("grid", "random", "lhs", "sobol", "morris")
#: The formats figures can be written in (:mod:`sim.plots`).
FIGURE_FORMATS = ("png", "svg", "pdf")
#: Replicates a single run may ask for (memory grows linearly; see docs/reliability.md, "Limits").
MAX_REPLICATES = 1_000_000


class ConfigError(Exception):
    """A problem with an input file, reported as ``file: key: what was expected``."""

    def __init__(self, file: str | Path, key: str, message: str) -> None:
        self.file, self.key, self.message = printable(str(file)), printable(key), printable(message)
        super().__init__(f"{self.file}: {self.key}: {self.message}" if key else f"{self.file}: {self.message}")


def printable(text: str) -> str:
    """``text`` with control characters escaped, so a message quoting the user's input stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
