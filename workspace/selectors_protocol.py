"""The registered protocol: what it holds (built from the study and its registered rules), its
canonical JSON and hash, and its versions as pages, downloads and reports read them.

The content names no id and no time (the time a version was frozen is stored beside it), and
its canonical JSON sorts every key, so the same study and rules always hash the same.
"""

import hashlib
import json

from django.http import Http404
from django.utils.translation import gettext as _

from surveys.models import Item, Study
from surveys.values import local_text
from workspace.models import ConsensusRule, ProtocolVersion
from workspace.selectors import rule_lines
from workspace.selectors_protocol_survey import survey_protocol, survey_summary

FORMAT = "agora-delphi-protocol/1"
# The reason stored with a version frozen as round 1 opened (the study had changed since the
# rules were registered); pages show it in the reader's language.
AT_LOCK = "round 1 opened"
FLOATS = ("agree_pct", "iqr_max", "stability_p", "stability_pct")

# How each kind of item is answered (language-neutral; pages describe it in words).
SCALES = {
    "agreement": {"points": 5, "min": 1, "max": 5, "top_boxes": [4, 5], "bottom_boxes": [1, 2]},
    "dimensions": {"points": 5, "min": 1, "max": 5, "per_dimension": True},
    "probability": {"min": 0, "max": 100, "unit": "%"},
    "year": {"range": "per item"},
    "numeric": {"range": "per item", "unit": "per item"},
    "ranking": {"options": "per item", "rated": False},
    "open": {"free_text": True, "rated": False},
}


def canonical_json(content: dict) -> str:
    """The one serialization that is hashed and downloaded (sorted keys, no spaces, UTF-8)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _texts(value) -> dict:
    """A registered text as {language: text}, without empty languages."""
    return {lang: str(text).strip() for lang, text in sorted((value or {}).items())
            if str(text).strip()}


def _rules(rule: ConsensusRule) -> dict:
    """The registered rule fields with their stored types (75 and 75.0 hash alike)."""
    values = {f: getattr(rule, f) for f in ConsensusRule.RULES}
    return {f: float(v) if f in FLOATS else int(v) if f == "max_rounds" else str(v)
            for f, v in values.items()}


def _items(study: Study) -> dict:
    kinds: dict[str, int] = {}
    dimensions: set[str] = set()
    for kind, dims in study.items.propositions().values_list("kind", "dimensions"):
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == Item.Kind.DIMENSIONS:
            dimensions.update(dims or [])
    scales = {k: SCALES.get(k, {}) for k in sorted(kinds)}
    if Item.Kind.DIMENSIONS in scales:
        scales[Item.Kind.DIMENSIONS] = {**scales[Item.Kind.DIMENSIONS],
                                        "dimensions": sorted(dimensions)}
    return {"count": sum(kinds.values()), "themes": study.themes.count(),
            "by_kind": dict(sorted(kinds.items())), "scales": scales}


def protocol_content(study: Study, rule: ConsensusRule) -> dict:
    """The protocol a study registers with its rules: aims, panel, rounds, items and scales,
    "no opinion", consensus, stability, stopping, feedback and anonymity (see the module doc)."""
    rules = _rules(rule)
    policy = study.items.filter(kind=Item.Kind.DIMENSIONS).exists()
    survey = study.mode == Study.Mode.SURVEY
    content = {
        "format": FORMAT,
        "study": {"title": _texts({"en": study.title_en, "ru": study.title_ru}),
                  "source": study.source, "languages": sorted(study.languages or []),
                  "as_of": study.as_of.isoformat() if study.as_of else None},
        "design": {"mode": study.mode, "policy_delphi": policy,
                   "type": "survey" if survey else
                   "real-time" if study.mode == Study.Mode.REALTIME else "classic"},
        "aims": _texts(rule.aims),
        "panel": {"selection_criteria": _texts(rule.panel_criteria),
                  "stakeholder_groups": [{"code": g.code,
                                          "name": _texts({"en": g.name_en, "ru": g.name_ru})}
                                         for g in study.groups.order_by("position", "code")]},
        "rounds": {"planned": rules["max_rounds"], "rationale": _texts(rule.rounds_rationale)},
        "items": _items(study),
        "no_opinion": {"offered": True, "handling": "excluded from n and from every statistic"},
        "consensus": {k: rules[k] for k in ("definition", "direction", "agree_pct", "iqr_max")},
        "stability": {k: rules[k] for k in ("stability", "stability_p", "stability_pct")},
        "stopping": {"rule": rules["stopping"], "max_rounds": rules["max_rounds"]},
        "feedback": {"mode": study.mode, "answer_before_feedback": study.answer_before_feedback,
                     "min_cell": study.min_cell,
                     "figures": ["median", "interquartile range", "distribution"],
                     "own_previous_answer": True, "arguments": "the panel's rationales, "
                     "unattributed, in an order keyed by a server secret"},
        "anonymity": {"pseudonyms_in_exports": True, "min_cell": study.min_cell,
                      "rationales_unattributed": True, "names_seen_by": "organizers only"},
    }
    if survey:  # recruitment, consent, screening, quality checks and weighting
        content["survey"] = survey_protocol(study)
    return content


def protocol_versions(study: Study) -> list[ProtocolVersion]:
    return list(ProtocolVersion.objects.filter(study=study).select_related("change")
                .order_by("version"))


def protocol_current(study: Study) -> ProtocolVersion | None:
    return ProtocolVersion.objects.filter(study=study).order_by("-version").first()


def protocol_version_of(study: Study, version: int | None) -> ProtocolVersion:
    """The given version (else the latest) or 404."""
    versions = ProtocolVersion.objects.filter(study=study).order_by("-version")
    found = versions.filter(version=version).first() if version else versions.first()
    if found is None:
        raise Http404
    return found


def protocol_changes(before: dict, after: dict) -> list[str]:
    """The parts of the protocol one version changed against the one before (dotted keys)."""
    def flat(value, prefix=""):
        if isinstance(value, dict) and value:
            return {k: v for key, sub in value.items() for k, v in flat(sub, f"{prefix}{key}.").items()}
        return {prefix.rstrip("."): value}

    a, b = flat(before), flat(after)
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def feedback_sentence(feedback: dict) -> str:
    """What experts saw between rounds, from the protocol's `feedback` settings."""
    shown = _("Between rounds every expert saw, for each item, the panel's median, interquartile "
              "range and distribution, their own previous answer and the panel's anonymous "
              "arguments, for items answered by at least %(n)s experts.") % {
        "n": feedback["min_cell"]}
    if feedback["answer_before_feedback"]:
        shown += " " + _("An item's feedback opened only once the expert had answered it in the "
                         "round.")
    if feedback["mode"] == Study.Mode.REALTIME:
        shown += " " + _("Real-Time Delphi: the figures refresh as experts submit, with dated "
                         "snapshots.")
    return shown


def protocol_summary(content: dict) -> list[tuple[str, str]]:
    """The protocol as (heading, text) pairs in the active language, for pages and reports."""
    c = content
    groups = ", ".join(local_text(g["name"]) or g["code"] for g in c["panel"]["stakeholder_groups"])
    kinds = ", ".join(f"{Item.Kind(k).label}: {n}" for k, n in c["items"]["by_kind"].items())
    rule = ConsensusRule(**{**c["consensus"], **c["stability"], "stopping": c["stopping"]["rule"],
                            "max_rounds": c["stopping"]["max_rounds"]})
    shown = feedback_sentence(c["feedback"])
    missing = _("not stated")
    common = {
        "aims": (_("Aims"), local_text(c["aims"]) or missing),
        "criteria": (_("Panel: selection criteria and expertise"),
                     local_text(c["panel"]["selection_criteria"]) or missing),
        "groups": (_("Stakeholder groups"), groups or missing),
        "items": (_("Items and scales"), _("%(n)s items in %(t)s themes") % {
            "n": c["items"]["count"], "t": c["items"]["themes"]} + (f" ({kinds})." if kinds else ".")),
        "no_opinion": (_('"No opinion"'), _('Experts may answer "no opinion"; such answers are '
                                            'excluded from n and from every statistic.')),
    }
    if c["design"]["type"] == "survey":
        return survey_summary(c, common)
    return [
        (_("Design"), _("Real-Time Delphi (roundless)") if c["design"]["type"] == "real-time"
         else _("Classic Delphi in rounds") + (" " + _("with Policy-Delphi dimensions")
                                               if c["design"]["policy_delphi"] else "")),
        common["aims"], common["criteria"], common["groups"],
        (_("Rounds planned"), _("At most %(n)s.") % {"n": c["rounds"]["planned"]}
         + (" " + local_text(c["rounds"]["rationale"]) if c["rounds"]["rationale"] else "")),
        common["items"], common["no_opinion"],
        *zip((_("Consensus"), _("Stability"), _("Stopping")), rule_lines(rule.snapshot()),
             strict=True),
        (_("Feedback between rounds"), shown),
        (_("Anonymity"), _("Experts are known to the organizers only; exports carry pseudonyms; "
                           "arguments are shown without attribution; no figure or argument is "
                           "shown for fewer than %(n)s answers.") % {
            "n": c["anonymity"]["min_cell"]}),
    ]


def protocol_view(version: ProtocolVersion) -> dict:
    """A version as pages show it: its number, hash, time, reason and summary lines."""
    content = json.loads(version.canonical)
    return {"version": version, "content": content, "summary": protocol_summary(content)}


def changed_parts(keys: list[str]) -> list[str]:
    """The protocol's parts (in the active language) that dotted keys belong to, in order."""
    labels = {"study": _("Study"), "design": _("Design"), "aims": _("Aims"),
              "panel": _("Panel"), "rounds": _("Rounds planned"), "items": _("Items and scales"),
              "no_opinion": _('"No opinion"'), "consensus": _("Consensus"),
              "stability": _("Stability"), "stopping": _("Stopping"),
              "feedback": _("Feedback between rounds"), "anonymity": _("Anonymity"),
              "survey": _("Recruitment, consent, quality checks and weighting")}
    tops = {k.split(".")[0] for k in keys}
    return [str(label) for key, label in labels.items() if key in tops]


def reason_text(reason: str) -> str:
    """A version's reason as the reader reads it (the platform's own reason translated)."""
    if reason == AT_LOCK:
        return _("Frozen again as round 1 opened: the study had changed since the rules were "
                 "registered.")
    return reason


def protocol_history(study: Study) -> list[dict]:
    """Every version with what it changed against the one before (empty for the first)."""
    rows, before = [], None
    for v in protocol_versions(study):
        content = json.loads(v.canonical)
        changed = protocol_changes(before, content) if before is not None else []
        rows.append({"version": v.version, "when": v.frozen_at, "sha256": v.sha256,
                     "amendment": v.amendment, "reason": reason_text(v.reason),
                     "changed": changed, "parts": changed_parts(changed)})
        before = content
    return rows
