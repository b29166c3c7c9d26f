"""A round's report, kept in storage: its page body rendered once per snapshot, its PDF built
by a background job with progress.

Both are named by a key derived from what the report shows: the round, the language, the
snapshot versions of this round and of the rounds before it (the convergence section reads
them), and the revision of the registered rules; a round without a snapshot yet adds the state
of its responses. So a report is rendered again only when one of these changes, and a changed
answer after the aggregation changes nothing until the round is aggregated again.

Files live under REPORTS_DIR (AGORA_REPORTS_DIR, default AGORA_DATA_DIR/reports), never under
a public URL: only the report views, after the study-role check, read them. Writes are atomic
(a temporary file renamed into place), so a retried or redelivered task writes the same file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.db import OperationalError
from django.db.models import Count, Max
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from surveys.models import AggregationRun, Response, Round, Study
from surveys.reports.data import registered_rules
from surveys.reports.render import html_to_pdf, report_context

logger = logging.getLogger(__name__)
# pending: asked for, not started; building: a worker renders it; ready: in storage; failed.
STATES = ("missing", "pending", "building", "ready", "failed")
STALE_AFTER = 600  # seconds: a pending or building job older than this is enqueued again
# The report layout: raised when the templates change, so stored renderings are made again.
LAYOUT = 23
KEEP_FOR = 7 * 24 * 3600  # seconds: rendered files nobody asked for since are removed


def reports_dir() -> Path:
    return Path(settings.REPORTS_DIR)


def job_key(round_: Round, language: str) -> str:
    """The name of this round's report in this language, as its inputs stand now."""
    runs = dict(AggregationRun.objects.filter(
        round__study_id=round_.study_id, round__number__lte=round_.number,
        kind=AggregationRun.Kind.ROUND, status=AggregationRun.Status.DONE).values_list(
        "round__number").annotate(version=Max("version")).values_list("round__number", "version"))
    live = ""
    if round_.number not in runs:  # no snapshot yet: the report reads the responses as they are
        state = Response.objects.filter(round=round_).aggregate(n=Count("id"), last=Max("updated_at"))
        live = f"{round_.status}:{state['n']}:{state['last']}"
    if round_.study.mode == Study.Mode.SURVEY:  # entries, margins and the panel count too
        from surveys.reports.survey import survey_state

        live += survey_state(round_.study)
    rules = registered_rules(round_.study)
    raw = (f"{LAYOUT}:{round_.pk}:{language}:{sorted(runs.items())}:{rules['revision'] if rules else 0}:"
           f"{live}")
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _path(key: str, suffix: str) -> Path:
    return reports_dir() / f"{key}.{suffix}"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def report_body(round_: Round, language: str) -> SafeString:
    """The report's body (every section, charts included) from storage, rendered on a miss."""
    path = _path(job_key(round_, language), "body.html")
    try:
        body = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        with translation.override(language):
            body = render_to_string("surveys/reports/_body.html", report_context(round_))
        _write(path, body.encode("utf-8"))
    return mark_safe(body)  # noqa: S308 (our own template's output, escaped when it was rendered)


def report_prepare(*, round_id: int) -> int:
    """Render the report body of a round in every language, once its snapshot is written;
    returns how many were rendered now (0 when all were in storage already)."""
    round_ = Round.objects.select_related("study").filter(pk=round_id).first()
    if round_ is None:
        return 0
    rendered = 0
    for language, _name in settings.LANGUAGES:
        if not _path(job_key(round_, language), "body.html").exists():
            report_body(round_, language)
            rendered += 1
    return rendered


def standalone_html(round_: Round, language: str) -> str:
    """The report as a self-contained HTML file (the stored body in a page of its own)."""
    with translation.override(language):
        return render_to_string("surveys/reports/standalone.html", {
            "study": round_.study, "round": round_, "body": report_body(round_, language)})


def job_status(key: str) -> dict:
    """{'state': one of STATES, 'progress': 0-100, ...} of the PDF named `key`."""
    try:
        status = json.loads(_path(key, "json").read_text())
    except (OSError, ValueError):
        return {"state": "missing", "progress": 0}
    if status.get("state") == "ready" and not _path(key, "pdf").exists():
        return {"state": "missing", "progress": 0}
    return status


def _set_status(key: str, state: str, progress: int, **extra) -> None:
    status = {"state": state, "progress": progress, "updated": time.time(), **extra}
    _write(_path(key, "json"), json.dumps(status).encode())


def pdf_file(key: str) -> Path | None:
    """The stored PDF named `key`, if it is ready."""
    return _path(key, "pdf") if job_status(key)["state"] == "ready" else None


def pdf_request(*, round_: Round, language: str, enqueue: bool = True,
                retry: bool = False) -> tuple[str, dict]:
    """The PDF of this round's report as its inputs stand: its key and status; enqueues the job
    (on commit) when it is neither in storage nor being built, unless `enqueue` is False. A
    failed job stays failed (and says why) until `retry` asks again."""
    from surveys.tasks import report_render

    key = job_key(round_, language)
    status = job_status(key)
    stale = time.time() - status.get("updated", 0) > STALE_AFTER
    if status["state"] == "failed" and not retry:
        return key, status
    if enqueue and (status["state"] in {"missing", "failed"}
                    or (status["state"] != "ready" and stale)):
        _prune()
        _set_status(key, "pending", 0)
        report_render.delay_on_commit(round_.pk, language, key)
        status = job_status(key)
    return key, status


def _prune() -> None:
    # Every new snapshot gives a new key; old renderings would pile up otherwise.
    cutoff = time.time() - KEEP_FOR
    for path in reports_dir().glob("*.*") if reports_dir().is_dir() else []:
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:  # removed meanwhile by another process: fine
            pass


def pdf_build(*, round_id: int, language: str, key: str) -> str:
    """Build the PDF named `key` into storage; does nothing when it is there already."""
    if job_status(key)["state"] == "ready":
        return "ready"
    round_ = Round.objects.select_related("study").filter(pk=round_id).first()
    if round_ is None:
        return "gone"
    try:
        _set_status(key, "building", 10, phase="report")
        html = standalone_html(round_, language)
        _set_status(key, "building", 40, phase="pdf")
        pdf = html_to_pdf(html)
    except OperationalError:  # the database went away: the task retries
        _set_status(key, "pending", 0)
        raise
    except Exception as exc:  # shown on the page; asking again starts a new job
        logger.exception("report PDF %s failed", key)
        _set_status(key, "failed", 0, error=str(exc)[:300])
        return "failed"
    _write(_path(key, "pdf"), pdf)
    _set_status(key, "ready", 100)
    return "ready"
