"""The API's documentation pages, with the Content-Security-Policy they need.

Both pages run only the app's own scripts (drf-spectacular-sidecar serves Swagger
UI and Redoc from our static files; the split Swagger view serves its init script
from its own URL), so `script-src 'self'` stays as it is everywhere. They do need
inline *styles*, and only these two views get them:

- Swagger UI: the page template carries a small <style> block (page background,
  box-sizing); without it the UI works but looks off.
- Redoc: styled-components inserts <style> elements at run time, and Redoc
  refuses to render at all without them ("Something went wrong"). Its search
  index runs in a Web Worker created from a blob: URL.

Redoc's template also links Google Fonts; the policy blocks that request (the
page falls back to system fonts), so the docs never call out to a CDN.
"""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

swagger_ui = csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api_schema"))

redoc = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["'self'", "blob:"]})(
    SpectacularRedocView.as_view(url_name="api_schema")
)
