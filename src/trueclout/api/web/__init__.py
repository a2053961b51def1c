"""The web dashboard: server-rendered pages over the same service as the API.

:data:`router` (from :mod:`trueclout.api.web.pages`) is a FastAPI ``APIRouter`` that serves the
pages under ``/`` and their CSS and Plotly JavaScript under ``/static``; the API's
``create_app`` adds it with :func:`~trueclout.api.web.pages.install` (which also sends a page
asked for without a key, when the pages need one, to the sign-in form). The pages read the
:class:`~trueclout.api.service.Service` at ``app.state.service``.

Examples
--------
>>> from trueclout.api.web import router
>>> sorted(r.name for r in router.routes)[:4]
['web_audit', 'web_discover', 'web_login', 'web_login_post']
"""

from .pages import install, router

__all__ = ["install", "router"]
