"""`python -m sim` is the same command line as `sco-sim`."""

from .cli import command_line

command_line()
