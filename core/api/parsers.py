"""The API reads JSON, and only JSON of a sane depth.

JSON only: every write then documents one request body type, which is what
schema-driven clients (openapi-python-client among them) can handle; a form or
multipart body answers 415. An endpoint that takes an upload names
`MultiPartParser` in its own `parser_classes`.

A sane depth: Python's JSON decoder recurses once per level, so a body of
100,000 `[` raises RecursionError (a 500 under DRF's parser), and a merely deep
body makes every later step (validation, error messages) recurse as well. No
Concord resource nests more than a few levels, so anything deeper than
MAX_DEPTH is refused as a parse error (400) before it reaches a serializer.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    max_depth = MAX_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"JSON parse error - nested deeper than {self.max_depth} levels.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if depth_exceeds(data, self.max_depth):
            raise too_deep
        return data


def depth_exceeds(data, limit: int) -> bool:
    """Whether a parsed JSON value nests objects/arrays more than `limit` levels deep
    (a scalar is 0 levels, `{}` and `[]` are 1). Iterative, so it cannot recurse."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
