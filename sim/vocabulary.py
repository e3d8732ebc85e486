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
        self.file, self.key, self.message = str(file), key, message
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")
