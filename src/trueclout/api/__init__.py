"""The service and the REST API: :class:`Service` (the library's answers as JSON-ready
dicts, shared with the web pages) and :func:`create_app` (FastAPI, under ``/api/v1``).

Examples
--------
>>> from trueclout.api import Service, create_app
>>> create_app(service=Service(":memory:"), web=False).title
'trueclout'
"""

from .app import create_app
from .service import Service

__all__ = ["Service", "create_app"]
