"""The site's icon at the addresses browsers ask for without being told (/favicon.ico)."""

from pathlib import Path

from django.http import FileResponse, HttpRequest
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

STATIC = Path(__file__).resolve().parent.parent / "static" / "surveys"
TYPES = {"favicon.ico": "image/x-icon", "favicon.svg": "image/svg+xml"}


@require_GET
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request: HttpRequest, name: str) -> FileResponse:
    """One of the two icon files shipped with the platform (no CDN, no database)."""
    return FileResponse((STATIC / name).open("rb"), content_type=TYPES[name])
