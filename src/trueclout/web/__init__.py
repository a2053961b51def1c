"""The web dashboard: server-rendered pages over the same service as the API.

:data:`router` (from :mod:`trueclout.web.pages`) is a FastAPI ``APIRouter`` that serves the
pages under ``/`` and their CSS and Plotly JavaScript under ``/static``; the API's
``create_app`` includes it. The pages read the
:class:`~trueclout.api.service.Service` at ``app.state.service``.

Examples
--------
>>> from trueclout.web import router
>>> sorted(r.name for r in router.routes)[:3]
['web_audit', 'web_discover', 'web_overlap']
"""

from .pages import router

__all__ = ["router"]
