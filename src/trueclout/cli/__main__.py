"""``python -m trueclout.cli``."""

from . import _console_main

_console_main()
