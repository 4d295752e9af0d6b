"""`Idempotency-Key` on unsafe API requests: a client that retries (a timeout, a lost
answer) with the same key and body gets the first answer again, and the work is done
once.

    class PaymentViewSet(IdempotentMixin, viewsets.GenericViewSet):
        @extend_schema(parameters=[IDEMPOTENCY_HEADER])
        def create(self, request):
            return self.idempotent(request, lambda: self._answer(...))
"""

import hashlib
import json

from django.core.cache import cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.response import Response

from .errors import ConflictError

IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID) of at most 200 characters. Retrying with the same key and body within "
    "24 hours answers what the first request answered and does nothing again; the same key with another body is "
    "a 409.",
)


class IdempotentMixin:
    """`Idempotency-Key` on unsafe requests: the first successful answer is kept (in the
    cache, per user and key, for a day) and replayed for a retry with the same body."""

    def idempotent(self, request, respond):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return respond()
        if not key.strip() or len(key) > 200:
            raise serializers.ValidationError({"Idempotency-Key": ["Send at most 200 characters, not blank."]})
        body = json.dumps(request.data, sort_keys=True, default=str)
        fingerprint = hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()
        cache_key = "idempotency:" + hashlib.sha256(f"{request.user.pk}:{key}".encode()).hexdigest()
        stored = cache.get(cache_key)
        if stored is not None:
            if stored["fingerprint"] != fingerprint:
                raise ConflictError("This Idempotency-Key was used for another request; use a new key.")
            if stored.get("pending"):
                raise ConflictError("A request with this Idempotency-Key is still running; retry in a moment.")
            response = Response(stored["data"], status=stored["status"])
            response["Idempotent-Replayed"] = "true"
            if stored.get("etag"):
                response["ETag"] = stored["etag"]
            return response
        # Claimed before the work: two retries racing each other do it once.
        if not cache.add(cache_key, {"fingerprint": fingerprint, "pending": True}, timeout=60):
            raise ConflictError("A request with this Idempotency-Key is still running; retry in a moment.")
        try:
            response = respond()
        except BaseException:
            cache.delete(cache_key)
            raise
        if 200 <= response.status_code < 300:
            kept = {
                "fingerprint": fingerprint,
                "status": response.status_code,
                "data": response.data,
                "etag": response.get("ETag"),
            }
            cache.set(cache_key, kept, timeout=IDEMPOTENCY_TTL)
        else:
            cache.delete(cache_key)
        return response
