"""sco-sim: an agent-based simulation of consensus decision-making in the Shanghai Cooperation Organization."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sco-sim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
