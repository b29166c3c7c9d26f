"""What an attitude survey's registered protocol adds (workspace.selectors_protocol): how the
sample is recruited (the collectors), consent and screening, the quality checks and the
weighting, and how its summary reads. A survey has one round and no feedback between
respondents, so the Delphi's rounds, consensus, stability and stopping lines do not apply."""

from functools import partial

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from surveys.models import Study
from surveys.selectors_gap import margin_name, margin_source, margins_text
from surveys.services.fielding import STRAIGHT_LINING_MIN
from surveys.values import local_text


def sentence(text: str) -> str:
    """The text ending as a sentence does (a full stop added when it has none)."""
    text = text.rstrip()
    return text if not text or text.endswith((".", "!", "?", "…")) else text + "."


def survey_protocol(study: Study) -> dict:
    """The survey's part of the protocol content (language-neutral, no ids, no times)."""
    collectors = [{"code": c.code, "group": c.group.code, "country": c.country,
                   "quota": c.quota, "speeder_seconds": c.speeder_seconds}
                  for c in study.collectors.select_related("group").order_by("code")]
    return {
        "anonymous": study.anonymous,
        "collectors": collectors,
        "consent_versions": sorted(study.consent_texts.values_list("version", flat=True)),
        "screening": [{"code": q["code"], "eligible": sorted(q["eligible"]),
                       "text": q.get("text", {}),
                       "options": {o["code"]: o.get("text", {}) for o in q.get("options", [])
                                   if o["code"] in q["eligible"]}}
                      for q in study.screening or []],
        "quality": {"attention_checks": study.items.filter(instructed__isnull=False).count(),
                    "straight_lining_min": STRAIGHT_LINING_MIN, "honeypot": True,
                    "flagged": "kept and marked; left out of weighted estimates"},
        "weighting": {"margins": [{k: m.get(k) for k in ("variable", "category", "share",
                                                         "source")} for m in study.margins],
                      "method": "post-stratification (one variable) or raking (several)"
                      if study.margins else "none (every respondent weighs 1)"},
        "compare_with": study.compare_with,
    }


def survey_summary(c: dict, common: dict) -> list[tuple[str, str]]:
    """The survey's protocol as (heading, text) pairs in the active language; `common` holds
    the lines it shares with a Delphi protocol (aims, groups, items, "no opinion")."""
    s = c["survey"]
    groups = {g["code"]: local_text(g["name"]) or g["code"]
              for g in c["panel"]["stakeholder_groups"]}
    name = partial(margin_name, groups=groups, countries={
        k["country"]: groups.get(k["group"], k["group"]) for k in s["collectors"] if k["country"]})
    links = "; ".join(
        f"{k['code']} ({k['group']}{', ' + k['country'] if k['country'] else ''}"
        + (", " + _("quota %(n)s") % {"n": k["quota"]} if k["quota"] else "") + ")"
        for k in s["collectors"])
    speed = sorted({k["speeder_seconds"] for k in s["collectors"] if k["speeder_seconds"]})
    checks = [_("completions faster than %(s)s s flagged as speeders") % {
        "s": "/".join(map(str, speed))}] if speed else []
    checks.append(_("a page of at least %(n)s rated answers all alike flagged as "
                    "straight-lining") % {"n": s["quality"]["straight_lining_min"]})
    if s["quality"]["attention_checks"]:
        n = s["quality"]["attention_checks"]
        checks.append(ngettext("%(n)s attention check: any answer other than the one it asks "
                               "for is flagged", "%(n)s attention checks: any answer other "
                               "than the one each asks for is flagged", n) % {"n": n})
    checks.append(_("a field hidden from people, flagged when filled"))
    named = []
    for m in s["weighting"]["margins"]:
        variable, category = name(str(m["variable"]), str(m["category"]))
        named.append({"variable": variable, "category": category, "share": m["share"]})
    margins = margins_text(named)
    source = next((margin_source(m) for m in s["weighting"]["margins"] if m.get("source")), "")
    weighting = (_("Weighted to declared population margins (post-stratification for one "
                   "variable, raking for several): %(m)s") % {"m": margins}
                 + (f" ({source})." if source else ".")) if margins else _(
        "Unweighted: every respondent weighs 1.")
    screening = "; ".join(
        f"{local_text(q.get('text')) or q['code']} ("
        + ", ".join(local_text(q.get("options", {}).get(e)) or e for e in q["eligible"]) + ")"
        for q in s["screening"])
    consent = ", ".join(s["consent_versions"])
    return [
        (_("Design"), _("Attitude survey: one round through open recruitment links; no "
                        "feedback between respondents, who never see each other's answers.")),
        common["aims"],
        (_("Population and recruitment"), sentence(common["criteria"][1]) + " " + (
            _("Recruitment links: %(links)s.") % {"links": links} if links else
            _("No recruitment link yet."))),
        common["groups"],
        common["items"],
        (_('"No opinion"'), _('Respondents may answer "no opinion"; such answers are excluded '
                              'from n and from every estimate.')),
        (_("Consent and screening"), (_("Consent text version(s): %(v)s.") % {"v": consent}
                                      if consent else _("No consent page.")) + " " + (
            _("Screening (eligible answers): %(s)s.") % {"s": screening} if screening
            else _("No screening."))),
        (_("Quality checks"), "; ".join(checks) + ". " + _(
            "Flagged responses are kept and marked, and left out of the weighted estimates.")),
        (_("Weighting"), weighting),
        (_("Anonymity"), _("No name or email is stored (anonymous mode); exports carry "
                           "pseudonyms.") if s["anonymous"] else _(
            "Respondents are known to the organizers only by their link's external id; exports "
            "carry pseudonyms.")),
    ]
