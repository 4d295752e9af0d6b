"""The API's PDF downloads (core.documents): a renderer for `application/pdf`, and
errors that stay JSON even when the client asked for the PDF."""

import json

from rest_framework import renderers


class PDFRenderer(renderers.BaseRenderer):
    """application/pdf for the PDF download; an error there still reads as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class PDFErrorsAsJSON:
    """A viewset's `pdf` action answers its errors (404, 409 not ready…) in JSON, as
    documented, even when the client asked for the PDF (`Accept: application/pdf`,
    `?format=pdf`)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(getattr(response, "accepted_renderer", None), PDFRenderer):
            response.accepted_renderer = renderers.JSONRenderer()
            response.accepted_media_type = renderers.JSONRenderer.media_type
        return response
