"""A study's complete archive (a backup): every row of the study, restorable on any database.

Unlike the pseudonymized research export (surveys.exports), this archive holds everything,
experts' names and emails and invitation-token hashes included: keep it like the database.
Rows refer to each other by natural keys (item codes, round numbers, expert emails...), never by
database ids, so an archive imports into a database that has other studies; a round trip
(export, import into an empty database or after the study is gone, export) gives the same archive.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils.dateparse import parse_datetime

from surveys.errors import ServiceError
from surveys.models import Study
from surveys.models.fielding import collector_token

FORMAT = "agora-delphi-backup"
VERSION = 1
# model, path from the model to its study, natural key (fields; a key field names a relation)
SPECS: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("surveys.Study", "pk", ("slug",)),
    ("surveys.StakeholderGroup", "study", ("code",)),
    ("surveys.Theme", "study", ("code",)),
    ("surveys.Item", "study", ("code",)),
    ("surveys.ConsentText", "study", ("version",)),
    ("surveys.Collector", "study", ("code",)),
    ("surveys.StudyMember", "study", ("user",)),
    ("surveys.Expert", "study", ("email",)),
    ("surveys.ExpertLink", "expert__study", ("token_hash",)),
    ("surveys.Entry", "expert__study", ("expert",)),
    ("surveys.ExpertiseRating", "expert__study", ("expert", "theme")),
    ("surveys.Round", "study", ("number",)),
    ("surveys.AggregationRun", "round__study", ("round", "version")),
    ("surveys.AggregationChunk", "run__round__study", ("run", "index")),
    ("surveys.LiveArguments", "run__round__study", ("run",)),
    ("surveys.Response", "round__study", ("round", "expert")),
    ("surveys.Answer", "response__round__study", ("response", "item", "dimension")),
    ("surveys.Rationale", "response__round__study", ("response", "item")),
    ("surveys.PreFeedbackAnswer", "response__round__study", ("response", "item", "dimension")),
    ("surveys.Aggregate", "round__study", ("round", "item", "dimension", "group")),
    ("surveys.AuditEvent", "study", None),  # nothing refers to an audit row: kept in order
    ("surveys.ResponseRevision", "response__round__study", ("response", "number")),
]
USER = "auth.user"


class ArchiveError(ServiceError):
    pass


def _label(model) -> str:
    return model._meta.label_lower


def _fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


class _Keys:
    """Natural keys by model label and primary key, filled in archive order."""

    def __init__(self) -> None:
        self.by_pk: dict[str, dict[int, tuple]] = {}

    def of(self, field: models.ForeignKey, pk: int | None) -> list | None:
        if pk is None:
            return None
        target = _label(field.related_model)
        if target == USER:
            return [get_user_model().objects.filter(pk=pk).values_list("username", flat=True).first()]
        key = self.by_pk.get(target, {}).get(pk)
        return list(key) if key is not None else None


def _natural(obj, key_fields, keys: _Keys) -> tuple:
    parts: list = []
    for name in key_fields:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname)
        # A null reference is None in the key, as in the archived row.
        parts += (keys.of(field, value) or [None]) if isinstance(field, models.ForeignKey) else [value]
    return tuple(parts)


def _json_out(label: str, name: str, value: Any, keys: _Keys) -> Any:
    """Ids inside JSON fields become natural keys too."""
    if (label == "surveys.auditevent" and name == "detail" and isinstance(value, dict)
            and isinstance(value.get("expert"), int)):
        return {**value, "expert": {"ref": list(keys.by_pk["surveys.expert"].get(value["expert"], ()))
                                    or None}}
    if label == "surveys.aggregationchunk" and name == "items" and value is not None:
        return [list(keys.by_pk["surveys.item"][pk]) for pk in value]
    return value


def study_export_archive(*, study: Study) -> dict:
    """The complete archive of one study, JSON-ready."""
    covered = {label.lower() for label, _p, _k in SPECS}
    missing = sorted(_label(m) for m in apps.get_app_config("surveys").get_models()
                     if _label(m) not in covered)
    if missing:
        raise ArchiveError(f"The archive does not cover {', '.join(missing)}; add it to SPECS.")
    keys, tables, respondents = _Keys(), {}, [0]
    for label, path, key_fields in SPECS:
        model = apps.get_model(label)
        rows = model.objects.filter(**{path: study.pk}).order_by("pk")
        label = label.lower()
        records = []
        for n, obj in enumerate(rows):
            record = {}
            for field in _fields(model):
                value = getattr(obj, field.attname)
                if isinstance(field, models.ForeignKey):
                    value = keys.of(field, value) if _label(field.related_model) != "surveys.study" else None
                elif isinstance(field, models.JSONField):
                    value = _json_out(label, field.name, value, keys)
                record[field.name] = _encode(value)
            for m2m in model._meta.many_to_many:
                related = getattr(obj, m2m.name).values_list("pk", flat=True)
                record[m2m.name] = sorted(list(keys.by_pk[_label(m2m.related_model)][pk]) for pk in related)
            keys.by_pk.setdefault(label, {})[obj.pk] = _respondent_key(
                label, _natural(obj, key_fields, keys) if key_fields else (n,), respondents)
            records.append(record)
        tables[label] = sorted(records, key=functools.partial(_sort_key, key_fields=key_fields))
    return {"format": FORMAT, "version": VERSION, "study": study.slug, "tables": tables}


def archive_bytes(study: Study) -> bytes:
    """The archive as the JSON file `export_study --format backup` writes."""
    text = json.dumps(study_export_archive(study=study), ensure_ascii=False, indent=1, sort_keys=True)
    return text.encode("utf-8")


def _respondent_key(label: str, natural: tuple, counter: list[int]) -> tuple:
    """Survey respondents have no email: the n-th of them is ("", "#n"). The archive keeps
    them in the order of their ids (its sort by email is stable) and an import creates them in
    the archive's order, so n names the same respondent on both sides."""
    if label != "surveys.expert" or natural != ("",):
        return natural
    counter[0] += 1
    return ("", f"#{counter[0]}")


def _sort_key(record: dict, key_fields) -> str:
    """Rows in natural-key order (audit rows by time), so equal studies give equal archives."""
    if not key_fields:
        return f"{record.get('created_at')}"
    return repr([record[name] for name in key_fields])


def _user(username: str, created: list[str]):
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    if user is None:
        user = users(username=username)
        user.set_unusable_password()
        user.save()
        created.append(username)
    return user


def _value(field: models.Field, raw: Any) -> Any:
    if raw is not None and isinstance(field, models.DateTimeField):
        return parse_datetime(raw)
    if raw is not None and isinstance(field, models.DateField):
        return dt.date.fromisoformat(raw)
    return raw


@transaction.atomic
def study_import_archive(*, archive: dict, slug: str | None = None) -> tuple[Study, list[str]]:
    """Restore a study from its archive (under another slug if given); all or nothing.

    Returns the study and the usernames of staff accounts that had to be created (without a
    usable password) for its members.
    """
    from surveys.exports import ARCHIVE_FORMAT

    if archive.get("format") == ARCHIVE_FORMAT:  # the pseudonymized archive of the web download
        from surveys.services.archive_import import study_import_research_archive

        return study_import_research_archive(archive=archive, slug=slug), []
    if archive.get("format") != FORMAT or archive.get("version") != VERSION:
        raise ArchiveError(f"Neither an {FORMAT} archive of version {VERSION} nor an "
                           f"{ARCHIVE_FORMAT} archive (the web's JSON archive).")
    tables = dict(archive["tables"])
    if "api.responserevision" in tables:  # archives made before revisions moved to surveys
        tables.setdefault("surveys.responserevision", tables.pop("api.responserevision"))
    target = slug or archive["study"]
    if Study.objects.filter(slug=target).exists():
        raise ArchiveError(f"A study with the slug {target!r} exists; import under another slug.")
    keys = _Keys()  # natural key by new pk
    pks: dict[str, dict[tuple, Any]] = {}  # new pk by natural key
    created_users: list[str] = []
    study, respondents = None, [0]
    for label, _path, key_fields in SPECS:
        model, label = apps.get_model(label), label.lower()
        records = tables.get(label, [])
        if label == "surveys.expertlink" and target != archive["study"]:
            records = []  # a copy does not take over the original's links
        objects = []
        for record in records:
            kwargs = {}
            for field in _fields(model):
                raw = record.get(field.name)
                if isinstance(field, models.ForeignKey):
                    try:
                        kwargs[field.attname] = _resolve(field, raw, pks, study, created_users)
                    except KeyError:
                        raise ArchiveError(f"The archive is inconsistent: a row of {label} refers "
                                           f"to {field.name} {raw!r}, which it does not hold.") from None
                elif isinstance(field, models.JSONField):
                    kwargs[field.attname] = _json_in(label, field.name, raw, pks)
                else:
                    kwargs[field.attname] = _value(field, raw)
            if label == "surveys.study":
                kwargs["slug"] = target
            if label == "surveys.collector" and target != archive["study"]:
                kwargs["token"] = collector_token()  # a copy's open links are its own
            objects.append(model(**kwargs))
        created = model.objects.bulk_create(objects)
        # auto_now / auto_now_add fields took the time of the import: put the archived ones back.
        stamps = [f for f in _fields(model) if getattr(f, "auto_now", False)
                  or getattr(f, "auto_now_add", False)]
        for obj, record in zip(created, records, strict=True):
            for field in stamps:
                setattr(obj, field.attname, _value(field, record.get(field.name)))
        if stamps and created:
            model.objects.bulk_update(created, [f.name for f in stamps])
        for n, (obj, record) in enumerate(zip(created, records, strict=True)):
            natural = _respondent_key(
                label, _natural(obj, key_fields, keys) if key_fields else (n,), respondents)
            if label == "surveys.study":
                natural = (archive["study"],)
            keys.by_pk.setdefault(label, {})[obj.pk] = natural
            pks.setdefault(label, {})[natural] = obj.pk
            for m2m in model._meta.many_to_many:
                related = pks[_label(m2m.related_model)]
                getattr(obj, m2m.name).set([related[tuple(ref)] for ref in record.get(m2m.name, [])])
        if label == "surveys.study":
            study = created[0]
    if study is None:
        raise ArchiveError("The archive has no study.")
    return study, created_users


def _resolve(field, raw, pks, study, created_users):
    target = _label(field.related_model)
    if target == "surveys.study":
        return study.pk
    if raw is None:
        return None
    if target == USER:
        return _user(raw[0], created_users).pk
    return pks[target][tuple(raw)]


def _json_in(label: str, name: str, value: Any, pks) -> Any:
    if (label == "surveys.auditevent" and name == "detail" and isinstance(value, dict)
            and isinstance(value.get("expert"), dict)):
        ref = value["expert"].get("ref")
        # 0: an expert removed before the export (no expert has id 0), so it stays unresolved.
        return {**value, "expert": pks["surveys.expert"].get(tuple(ref), 0) if ref else 0}
    if label == "surveys.aggregationchunk" and name == "items" and value is not None:
        return [pks["surveys.item"][tuple(ref)] for ref in value]
    return value
