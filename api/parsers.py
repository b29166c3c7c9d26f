"""The API's one body parser: JSON, refused with a 400 when nested deeper than MAX_DEPTH.

Python's json module recurses once per level and raises RecursionError near 1,000 levels (a 500);
no legitimate payload of ours nests beyond a handful, so the depth is measured on the raw text
first, before json parses anything.
"""

import re

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers
from rest_framework.utils import json

MAX_DEPTH = 64
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # brackets inside strings don't nest


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text opens more than `limit` arrays or objects inside each other.

    The running depth is summed by numpy: a Python loop over 2.5 MB of `[]` takes over a second.
    UTF-8 never uses the bytes of ASCII brackets inside a multi-byte character.
    """
    codes = np.frombuffer(_STRING.sub("", text).encode(), dtype=np.uint8)
    steps = (((codes == ord("[")) | (codes == ord("{"))).astype(np.int32)
             - ((codes == ord("]")) | (codes == ord("}"))))
    return bool(steps.size) and int(np.cumsum(steps).max()) > limit


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (strict: no NaN or Infinity) with a depth limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise exceptions.ParseError(_("The body is not valid JSON text.")) from error
        try:
            if too_deep(text):
                raise RecursionError
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError as error:  # json's own, should the count above ever fall short
            raise exceptions.ParseError(
                _("The JSON body is nested more than %(n)s levels deep.") % {"n": MAX_DEPTH}
            ) from error
        except ValueError as error:
            raise exceptions.ParseError(_("JSON parse error - %(error)s") % {"error": error}) from error
