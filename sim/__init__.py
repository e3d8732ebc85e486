"""sco-sim: an agent-based simulation of consensus decision-making in the Shanghai Cooperation Organization."""

# The one place the version is written (pyproject.toml reads it): looking it up in the installed
# package's metadata instead cost every command a tenth of a second at start.
__version__ = "0.1.0"
