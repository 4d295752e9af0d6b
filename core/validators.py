"""Validators shared by every app's model fields."""

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# Bidirectional control characters (U+202A–U+202E embeddings and overrides,
# U+2066–U+2069 isolates) reorder the text displayed around them: a name holding
# them can show as something else on a page, in a PDF or in a CSV ("Trojan Source").
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


@deconstructible
class NoBidiControlsValidator:
    message = "Remove the invisible text-direction characters (e.g. U+202E); they make names read differently."
    code = "bidi_control"

    def __call__(self, value):
        if isinstance(value, str) and BIDI_CONTROLS.search(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other):
        return isinstance(other, NoBidiControlsValidator)

    def __hash__(self):
        return hash(type(self))


no_bidi_controls = NoBidiControlsValidator()
