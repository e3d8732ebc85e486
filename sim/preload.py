"""What a sweep's worker processes need, loaded once by the fork server before it forks them."""

from .startup import collector_paused

with collector_paused():
    from . import runner, sweep  # noqa: F401
