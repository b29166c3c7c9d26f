"""Freezing the registered protocol: a new version with every registration or change of the
rules (in the rule's transaction), and once more when round 1 opens if the study changed."""

from django.db import transaction
from django.utils import timezone

from surveys.models import AuditEvent, Study
from workspace.models import ConsensusRule, ConsensusRuleChange, ProtocolVersion
from workspace.selectors_protocol import AT_LOCK, canonical_json, protocol_content, sha256_of

__all__ = ["AT_LOCK", "protocol_freeze"]


@transaction.atomic
def protocol_freeze(*, study: Study, rule: ConsensusRule, actor, amendment: bool,
                    reason: str = "", change: ConsensusRuleChange | None = None,
                    only_if_changed: bool = False) -> ProtocolVersion | None:
    """Write the protocol as it stands as a new version (canonical JSON, its SHA-256, now);
    with `only_if_changed`, nothing when it hashes as the latest version does."""
    canonical = canonical_json(protocol_content(study, rule))
    digest = sha256_of(canonical)
    latest = ProtocolVersion.objects.select_for_update().filter(study=study).order_by(
        "-version").first()
    if only_if_changed and latest is not None and latest.sha256 == digest:
        return None
    version = ProtocolVersion.objects.create(
        study=study, version=(latest.version + 1) if latest else 1, change=change,
        canonical=canonical, sha256=digest, frozen_at=timezone.now(), frozen_by=actor,
        amendment=amendment, reason=reason)
    AuditEvent.objects.create(study=study, actor=actor, action="protocol_frozen", detail={
        "version": version.version, "sha256": digest, "amendment": amendment, "reason": reason})
    return version
