"""Commands of the discover stage (registered on import by :mod:`trueclout.cli`)."""

from __future__ import annotations
