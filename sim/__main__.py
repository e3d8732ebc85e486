"""`python -m sim` is the same command line as `sco-sim`."""

from .cli import main

raise SystemExit(main())
