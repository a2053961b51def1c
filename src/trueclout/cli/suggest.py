"""Commands of the suggest stage (registered on import by :mod:`trueclout.cli`)."""

from __future__ import annotations
