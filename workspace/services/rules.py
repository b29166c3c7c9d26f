"""Consensus, stability and stopping rules: registered before round 1, locked once it opens."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Round, Study
from surveys.services.aggregation import aggregation_request
from workspace.models import ConsensusRule, ConsensusRuleChange
from workspace.services.protocol import AT_LOCK, protocol_freeze

FIELDS = ConsensusRule.REGISTERED
MIN_REASON = 10
MAX_TEXT = 5000  # as a study file allows (surveys.studyfile.MAX_TEXT)
LANGUAGES = ("en", "ru")


def rules_locked(study: Study) -> bool:
    """Whether the study's rules are locked: round 1 (or any round) has opened."""
    return study.rounds.exclude(status=Round.Status.DRAFT).exists()


def rules_differ(*, study: Study, values: dict) -> bool:
    """Whether registering `values` would change the study's rules (or register the first)."""
    rule = ConsensusRule.objects.filter(study=study).first()
    if rule is None:
        return True
    given = {f: v for f, v in values.items() if f in FIELDS}
    texts = _clean_texts({f: given[f] for f in ConsensusRule.TEXTS if f in given})
    return any(getattr(rule, field) != value for field, value in {**given, **texts}.items())


def _check(values: dict) -> dict[str, str]:
    errors = {}
    if values["definition"] not in ConsensusRule.Definition.values:
        errors["definition"] = _("Choose a consensus definition.")
    if values["direction"] not in ConsensusRule.Direction.values:
        errors["direction"] = _("Choose what the consensus may be on: agreement, rejection or "
                                "either.")
    if values["stability"] not in ConsensusRule.Stability.values:
        errors["stability"] = _("Choose a stability definition.")
    if values["stopping"] not in ConsensusRule.Stopping.values:
        errors["stopping"] = _("Choose a stopping rule.")
    if not 0 < values["agree_pct"] <= 100:
        errors["agree_pct"] = _("Enter a percentage above 0 and at most 100.")
    if not 0 <= values["iqr_max"] <= 8:
        errors["iqr_max"] = _("Enter an IQR from 0 to 8.")
    if not 0 < values["stability_p"] < 1:
        errors["stability_p"] = _("Enter a p-value between 0 and 1.")
    if not 0 < values["stability_pct"] <= 100:
        errors["stability_pct"] = _("Enter a percentage above 0 and at most 100.")
    if not 1 <= values["max_rounds"] <= 10:
        errors["max_rounds"] = _("Enter a number of rounds from 1 to 10.")
    for field in ConsensusRule.TEXTS:
        text = values[field]
        if not isinstance(text, dict) or any(
                lang not in LANGUAGES or not isinstance(t, str) or len(t) > MAX_TEXT
                for lang, t in text.items()):
            errors[field] = _("Give the text per language (en, ru), at most %(n)s characters "
                              "each.") % {"n": MAX_TEXT}
    return errors


def _clean_texts(values: dict) -> dict:
    """Registered texts without surrounding blanks or empty languages ({} when none)."""
    for field in ConsensusRule.TEXTS:
        if isinstance(values.get(field), dict):
            values[field] = {lang: t.strip() for lang, t in sorted(values[field].items())
                             if isinstance(t, str) and t.strip()}
    return values


@transaction.atomic
def rule_register(*, study: Study, actor, reason: str = "", **values) -> ConsensusRule:
    """Register or change the study's rules; after round 1 has opened a change needs a reason.

    Every registration and change is kept (before, after, who, when, why), audited, and frozen
    as a new version of the registered protocol (an amendment after round 1 opened).
    """
    Study.objects.select_for_update().filter(pk=study.pk).first()
    rule = ConsensusRule.objects.filter(study=study).first()
    current = {f: getattr(rule or ConsensusRule(), f) for f in FIELDS}  # else the defaults
    values = {**current, **{k: v for k, v in values.items() if k in FIELDS}}
    errors = _check(values)
    values = _clean_texts(values)
    if errors:
        raise ServiceError(_("The rules need correcting."), field_errors=errors)
    locked = rules_locked(study)
    reason = reason.strip()
    if locked and len(reason) < MIN_REASON:
        raise ServiceError(_("The rules are locked since round 1 opened: a change needs a written "
                             "reason."), field_errors={"reason": _("Write the reason for the change.")})
    before = rule.snapshot() if rule else {}
    if rule is None:
        rule = ConsensusRule(study=study, registered_by=actor, revision=1, **values)
    else:
        if current == values:
            raise ServiceError(_("Nothing changed."))
        for field, value in values.items():
            setattr(rule, field, value)
        rule.revision += 1
    if locked and rule.locked_at is None:
        rule.locked_at = timezone.now()
    rule.save()
    change = ConsensusRuleChange.objects.create(
        rule=rule, revision=rule.revision, changed_by=actor, after_lock=locked, reason=reason,
        before=before, after=rule.snapshot())
    AuditEvent.objects.create(
        study=study, actor=actor,
        action="rules_changed_after_lock" if locked else "rules_registered",
        detail={"revision": change.revision, "reason": reason, "before": before,
                "after": change.after})
    protocol_freeze(study=study, rule=rule, actor=actor, amendment=locked, reason=reason,
                    change=change)
    if locked and any(current[f] != values[f] for f in ConsensusRule.RULES):
        _reaggregate(study=study, actor=actor)
    return rule


def _reaggregate(*, study: Study, actor) -> None:
    """A new snapshot version of every aggregated round under the changed rules (enqueued once
    the change commits): verdicts are only ever computed by the aggregation, never by a page."""
    for round_ in study.rounds.filter(status=Round.Status.AGGREGATED):
        aggregation_request(round_=round_, actor=actor)


def rule_required(*, study: Study) -> ConsensusRule:
    rule = ConsensusRule.objects.filter(study=study).first()
    if rule is None:
        raise ServiceError(_("Register the consensus, stability and stopping rules before "
                             "round 1 opens."))
    return rule


@transaction.atomic
def rules_lock(*, study: Study, actor=None) -> ConsensusRule:
    """Lock the registered rules as round 1 opens; refuses when no rule is registered."""
    rule = ConsensusRule.objects.select_for_update().get(pk=rule_required(study=study).pk)
    if rule.locked_at is None:
        rule.locked_at = timezone.now()
        rule.save(update_fields=["locked_at"])
        AuditEvent.objects.create(study=study, actor=actor, action="rules_locked",
                                  detail={"revision": rule.revision, "rules": rule.snapshot()})
        protocol_freeze(study=study, rule=rule, actor=actor, amendment=False, reason=AT_LOCK,
                        only_if_changed=True)
    return rule
