"""The report's registered protocol and its methods section, written from the protocol and the
study's record (selectors). Every sentence is translated: the report renders in one language."""

from __future__ import annotations

import platform
import statistics
from collections import Counter
from importlib import metadata

from django.db.models import Count
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from surveys.figures import item_verdicts, participation, participation_total
from surveys.models import ExpertiseRating, Item, Round, Study
from surveys.values import local_text

ATTRITION_LIMIT = 20.0  # % of a round's previous submitters lost: a limitation above this
SMALL_GROUP = 5  # experts: a stakeholder group smaller than this is a limitation
AGORA_VERSION = "0.1.0"  # pyproject.toml; the platform is not installed as a package


def _g(number: float) -> str:
    """A number in a sentence as few digits show it ("12.5"), with the active language's
    decimal separator ("12,5" in Russian)."""
    return f"{number:g}".replace(".", str(formats.get_format("DECIMAL_SEPARATOR")))


def rules_for_report(study: Study) -> dict | None:
    from workspace.selectors import rules_for_report as rules  # the workspace builds on surveys

    return rules(study)


def protocol_section(study: Study) -> dict | None:
    """The registered protocol as the report states it: the version in force (hash, time,
    summary), whether it was registered before round 1, and every amendment since; None when
    no protocol was frozen."""
    from workspace.selectors_protocol import protocol_current, protocol_history, protocol_view

    current = protocol_current(study)
    if current is None:
        return None
    history = protocol_history(study)
    first = history[0]
    return {"current": protocol_view(current), "first": first, "before_round1": not first["amendment"],
            "history": history, "amendments": [h for h in history if h["amendment"]]}


def _protocol_content(study: Study) -> dict | None:
    from workspace.selectors_protocol import protocol_current, protocol_view

    current = protocol_current(study)
    return protocol_view(current)["content"] if current else None


def _rounds(study: Study, round_: Round) -> list[Round]:
    return list(study.rounds.filter(number__lte=round_.number).order_by("number"))


def _local(texts: dict | None) -> str:
    return local_text(texts or {})


def design_lines(study: Study, round_: Round, content: dict | None) -> list[str]:
    """Design and aims: the kind of Delphi, rounds planned and held, the stated aims."""
    held = round_.number
    policy = Item.objects.filter(rounds__in=_rounds(study, round_),
                                 kind=Item.Kind.DIMENSIONS).exists()
    if study.mode == Study.Mode.REALTIME:
        lines = [_("Design: a Real-Time (roundless) Delphi; this report covers %(n)s snapshots.")
                 % {"n": held}]
    else:
        lines = [ngettext("Design: a classic Delphi in rounds; this report covers %(n)s round.",
                          "Design: a classic Delphi in rounds; this report covers %(n)s rounds.",
                          held) % {"n": held}]
    lines.append(_("The study was conducted online on the Agora Delphi platform."))
    if policy:
        lines.append(_("Some items were rated on several dimensions (desirability, feasibility, "
                       "importance), as in a Policy Delphi."))
    if content:
        planned = content["rounds"]["planned"]
        lines.append(ngettext("At most %(n)s round was planned.", "At most %(n)s rounds were planned.",
                              planned) % {"n": planned}
                     + (" " + _local(content["rounds"]["rationale"])
                        if content["rounds"]["rationale"] else ""))
        if content["aims"]:
            lines.append(_("Aims: %(text)s") % {"text": _local(content["aims"])})
    return lines


def panel_lines(study: Study, round_: Round, content: dict | None) -> list[str]:
    """Panel selection and expertise: the stated criteria, the groups and their sizes."""
    first = _rounds(study, round_)[0]
    rows = participation(first)
    sizes = ", ".join(f"{r['group'].name} {r['panel']}" for r in rows[:-1])
    lines = []
    if content and content["panel"]["selection_criteria"]:
        lines.append(_("Panel selection and expertise: %(text)s") % {
            "text": _local(content["panel"]["selection_criteria"])})
    lines.append(ngettext(
        "At round 1 the panel had %(n)s expert in %(g)s stakeholder groups (%(sizes)s).",
        "At round 1 the panel had %(n)s experts in %(g)s stakeholder groups (%(sizes)s).",
        rows[-1]["panel"]) % {"n": rows[-1]["panel"], "g": len(rows) - 1, "sizes": sizes})
    levels = list(ExpertiseRating.objects.filter(expert__study=study).values_list("level", flat=True))
    if levels:
        raters = ExpertiseRating.objects.filter(expert__study=study).values("expert").distinct().count()
        lines.append(_("%(n)s experts rated their own expertise per theme on a scale of 1 to 5 "
                       "(median %(median)s).") % {"n": raters,
                                                   "median": _g(statistics.median(levels))})
    return lines


def feedback_lines(study: Study, content: dict | None) -> list[str]:
    from workspace.selectors_protocol import feedback_sentence

    settings = content["feedback"] if content else {
        "min_cell": study.min_cell, "answer_before_feedback": study.answer_before_feedback,
        "mode": study.mode}
    return [feedback_sentence(settings)]


def item_changes(study: Study, round_: Round) -> dict[str, int]:
    """How items changed between the rounds up to this one: ItemOrigin relations counted, and
    items of a round asked no more in the next one (dropped)."""
    from workspace.models import ItemOrigin

    rounds = _rounds(study, round_)
    counts: Counter[str] = Counter(dict(
        ItemOrigin.objects.filter(round__in=rounds[1:]).values_list("relation").annotate(n=Count("pk"))))
    for before, after in zip(rounds, rounds[1:], strict=False):
        asked = set(after.items.values_list("pk", flat=True))
        sources = set(ItemOrigin.objects.filter(round=after).values_list("source_item", flat=True))
        counts["dropped"] += len(set(before.items.values_list("pk", flat=True)) - asked - sources)
    return dict(counts)


def item_change_line(changes: dict[str, int]) -> str:
    names = {"added": pgettext("item changes", "added"),
             "reworded": pgettext("item changes", "reworded"),
             "split": pgettext("item changes", "split"),
             "merged": pgettext("item changes", "merged"),
             "dropped": pgettext("item changes", "dropped"),
             "carried": pgettext("item changes", "carried over"),
             "kept": pgettext("item changes", "kept despite consensus")}
    parts = [f"{names[k]} {changes[k]}" for k in names if changes.get(k)]
    if not parts:
        return _("Items between rounds: no item was added, reworded, split, merged or dropped "
                 "(the item log lists every item's history).")
    return _("Items between rounds: %(parts)s (the item log lists every item's history).") % {
        "parts": ", ".join(parts)}


def missing_lines(study: Study, round_: Round) -> list[str]:
    """Missing data: "no opinion", non-responders and dropouts, withdrawn experts."""
    withdrawn = study.experts.filter(withdrawn_at__isnull=False).count()
    lost = sum(participation_total(r)["lost"] or 0 for r in _rounds(study, round_)[1:])
    return [
        _('"No opinion" answers were excluded from n and from every statistic.'),
        _("Only submitted questionnaires count; nothing was imputed. An expert who did not "
          "submit a round stayed on the panel and was invited to the next one; an answer from an "
          "earlier round counts again only when the expert kept it in the new round."),
        ngettext("%(n)s expert who had submitted a round did not submit the next one (dropouts).",
                 "%(n)s experts who had submitted a round did not submit the next one (dropouts).",
                 lost) % {"n": lost},
        ngettext("%(n)s expert withdrew; a withdrawn expert counts in neither the panel nor the "
                 "statistics of a round that closed after the withdrawal.",
                 "%(n)s experts withdrew; a withdrawn expert counts in neither the panel nor the "
                 "statistics of a round that closed after the withdrawal.", withdrawn) % {
            "n": withdrawn},
    ]


def limitations(study: Study, round_: Round, rules: dict | None) -> list[str]:
    """Limitations the record shows: attrition, small groups, rules registered late or amended
    after round 1 opened (`rules`: workspace.selectors.rules_for_report), rated items without a
    verdict."""
    out = []
    flows = [(r, participation(r)) for r in _rounds(study, round_)]
    for r, rows in flows:
        total = rows[-1]
        if total["attrition"] is not None and total["attrition"] > ATTRITION_LIMIT:
            out.append(_("Attrition in round %(n)s was %(pct)s %% (%(lost)s of %(prior)s), above "
                         "%(limit)s %%.") % {"n": r.number, "pct": _g(total["attrition"]),
                                             "lost": total["lost"], "prior": total["previous"],
                                             "limit": _g(ATTRITION_LIMIT)})
    for r, rows in flows:
        out += _group_limits(r, rows[:-1])
    for row in participation(_rounds(study, round_)[0])[:-1]:
        if row["panel"] < SMALL_GROUP:
            out.append(_("The stakeholder group %(group)s had %(n)s experts at round 1, fewer than "
                         "%(min)s: its figures are fragile.") % {
                "group": row["group"].name, "n": row["panel"], "min": SMALL_GROUP})
    if rules is None:
        out.append(_("No protocol was registered: consensus was not defined in advance."))
    else:
        amended = len(rules["changes_after_lock"]) - (1 if rules["registered_late"] else 0)
        if rules["registered_late"]:
            out.append(_("The rules were registered after round 1 had opened."))
        if amended:
            out.append(ngettext("The protocol was amended %(n)s time after round 1 opened.",
                                "The protocol was amended %(n)s times after round 1 opened.",
                                amended) % {"n": amended})
    missing = _rated_without_verdict(round_)
    if missing:
        out.append(ngettext("%(n)s rated item of round %(r)s has no verdict (too few answers or a "
                            "rule that does not apply to it).",
                            "%(n)s rated items of round %(r)s have no verdict (too few answers or "
                            "a rule that does not apply to them).", missing) % {
            "n": missing, "r": round_.number})
    return out


def _group_limits(round_: Round, rows: list[dict]) -> list[str]:
    """A round's stakeholder groups (`participation` rows) that lost more than ATTRITION_LIMIT
    % of the round before's submitters, and those with fewer than SMALL_GROUP submitted
    answers (a closed round)."""
    out = [_("Attrition in the stakeholder group %(group)s in round %(n)s was %(pct)s %% "
             "(%(lost)s of %(prior)s), above %(limit)s %%.") % {
        "group": row["group"].name, "n": round_.number, "pct": _g(row["attrition"]),
        "lost": row["lost"], "prior": row["previous"], "limit": _g(ATTRITION_LIMIT)}
        for row in rows if row["attrition"] is not None and row["attrition"] > ATTRITION_LIMIT]
    small = [f"{row['group'].name} (n = {row['submitted']})" for row in rows
             if row["final"] and row["submitted"] < SMALL_GROUP]
    if small:
        out.append(_("Fewer than %(min)s answers were submitted in round %(n)s by the stakeholder "
                     "groups: %(groups)s; their figures are fragile.") % {
            "min": SMALL_GROUP, "n": round_.number, "groups": "; ".join(small)})
    return out


def _rated_without_verdict(round_: Round) -> int:
    if round_.status != Round.Status.AGGREGATED:
        return 0
    verdicts = item_verdicts(round_)
    rated = round_.items.propositions().filter(kind__in=list(Item.RATED)).values_list(
        "pk", flat=True)
    return sum(1 for pk in rated if (verdicts.get(pk) or {}).get("verdict") is None)


def software_line() -> str:
    versions = {name: _version(name) for name in ("Django", "scipy", "pandas", "numpy")}
    return _("Software: Agora Delphi %(agora)s, Python %(python)s, Django %(django)s, SciPy "
             "%(scipy)s, pandas %(pandas)s, NumPy %(numpy)s.") % {
        "agora": AGORA_VERSION, "python": platform.python_version(), "django": versions["Django"],
        "scipy": versions["scipy"], "pandas": versions["pandas"], "numpy": versions["numpy"]}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def methods_section(study: Study, round_: Round) -> dict | None:
    """The methods as sentences, by part (design, panel, feedback, items, missing data), the
    limitations the record shows and the software used."""
    content = _protocol_content(study)
    changes = item_changes(study, round_)
    return {
        "design": design_lines(study, round_, content),
        "panel": panel_lines(study, round_, content),
        "feedback": feedback_lines(study, content),
        "items": item_change_line(changes), "item_changes": changes,
        "missing": missing_lines(study, round_),
        "limitations": limitations(study, round_, rules_for_report(study)),
        "software": software_line(),
    }
