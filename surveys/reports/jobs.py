"""Rendering a large study's report in the background, with progress, exactly once per state.

A job is named by a key derived from the round, the language and the state of the answers, so
a report is rendered again only when something changed. The worker writes the files and a
small status file under REPORTS_DIR (default var/reports/); writes are atomic (a temporary file
renamed into place), so a retry or a redelivered task simply renders the same files again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max
from django.utils import translation

from surveys.models import Response, Round
from surveys.reports.data import registered_rules
from surveys.reports.render import html_to_pdf, report_context, report_html

FILES = ("html", "pdf")
STALE_AFTER = 600  # seconds: a queued or running job older than this is enqueued again
KEEP_FOR = 7 * 24 * 3600  # seconds: rendered files nobody asked for since are removed


def reports_dir() -> Path:
    return Path(getattr(settings, "REPORTS_DIR", Path(settings.BASE_DIR) / "var" / "reports"))


def sync_limit() -> int:
    """Reports reading more answers than this render in the background."""
    return int(getattr(settings, "REPORT_SYNC_MAX_ANSWERS", 20000))


def job_key(round_: Round, language: str) -> str:
    state = Response.objects.filter(round__study_id=round_.study_id,
                                    round__number__lte=round_.number).aggregate(
        n=Count("id"), last=Max("updated_at"))
    rules = registered_rules(round_.study)  # a change of the registered rules re-renders too
    raw = (f"{round_.pk}:{language}:{round_.status}:{round_.aggregated_at}:{state['n']}:"
           f"{state['last']}:{rules['revision'] if rules else 0}")
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _path(key: str, suffix: str) -> Path:
    return reports_dir() / f"{key}.{suffix}"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def job_status(key: str) -> dict:
    """{'state': 'missing'|'queued'|'running'|'done'|'failed', 'progress': 0-100, ...}."""
    try:
        status = json.loads(_path(key, "json").read_text())
    except (OSError, ValueError):
        return {"state": "missing", "progress": 0}
    if status.get("state") == "done" and not all(_path(key, s).exists() for s in FILES):
        return {"state": "missing", "progress": 0}
    return status


def _set_status(key: str, state: str, progress: int, **extra) -> None:
    status = {"state": state, "progress": progress, "updated": time.time(), **extra}
    _write(_path(key, "json"), json.dumps(status).encode())


def job_file(key: str, fmt: str) -> bytes | None:
    if fmt not in FILES or job_status(key)["state"] != "done":
        return None
    return _path(key, fmt).read_bytes()


def report_job_request(*, round_: Round, language: str) -> tuple[str, dict]:
    """Make sure the report of this state is rendered or being rendered; returns key and status."""
    from surveys.tasks import report_render

    _prune()
    key = job_key(round_, language)
    status = job_status(key)
    stale = time.time() - status.get("updated", 0) > STALE_AFTER
    if status["state"] in {"missing", "failed"} or (status["state"] != "done" and stale):
        _set_status(key, "queued", 0)
        report_render.delay_on_commit(round_.pk, language, key)
        status = job_status(key)
    return key, status


def _prune() -> None:
    # Every change of the answers gives a new key; old renderings would pile up otherwise.
    cutoff = time.time() - KEEP_FOR
    for path in reports_dir().glob("*.*") if reports_dir().is_dir() else []:
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:  # removed meanwhile by another process: fine
            pass


def report_job_run(*, round_id: int, language: str, key: str) -> str:
    """Render the report's HTML and PDF files for `key`; does nothing when they exist."""
    if job_status(key)["state"] == "done":
        return "done"
    round_ = Round.objects.select_related("study").filter(pk=round_id).first()
    if round_ is None:
        return "gone"

    def progress(percent: int, phase: str) -> None:
        _set_status(key, "running", percent, phase=phase)

    try:
        with translation.override(language):
            context = report_context(round_, progress=progress)
            html = report_html(round_, standalone=True, context=context)
            progress(80, "pdf")
            pdf = html_to_pdf(html)
    except Exception as exc:
        _set_status(key, "failed", 0, error=str(exc)[:300])
        raise
    _write(_path(key, "html"), html.encode("utf-8"))
    _write(_path(key, "pdf"), pdf)
    _set_status(key, "done", 100)
    return "done"
