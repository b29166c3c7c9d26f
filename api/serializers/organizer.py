"""Shapes of the organizer's work beside the builder: mail, panel imports, rounds, rules, audit."""

from rest_framework import serializers

from api.serializers.panel import ExpertSerializer
from workspace.models import ConsensusRule, Message, OutboxMessage, Reminder
from workspace.services.panel import MAX_CSV_BYTES


class MessageSerializer(serializers.ModelSerializer):
    """One email of the send log (organizers and owners only: it names the recipient)."""

    kind = serializers.CharField(help_text="invitation, reminder or round_opened (the notice that "
                                           "a round is open; it carries no link)")
    expert = serializers.IntegerField(source="expert_id")
    expert_name = serializers.CharField(source="expert.name")
    round = serializers.IntegerField(source="round.number", allow_null=True, default=None)

    class Meta:
        model = Message
        fields = ["id", "kind", "status", "expert", "expert_name", "to_email", "language", "round",
                  "error", "created_at", "sent_at"]
        read_only_fields = fields


class OutboxSerializer(serializers.ModelSerializer):
    """One message of the outbox as the expert received it (its body holds their personal link)."""

    message = serializers.IntegerField(source="message_id")
    kind = serializers.CharField(source="message.kind")
    expert = serializers.IntegerField(source="message.expert_id")
    expert_name = serializers.CharField(source="message.expert.name")
    round = serializers.IntegerField(source="message.round.number", allow_null=True, default=None)

    class Meta:
        model = OutboxMessage
        fields = ["id", "message", "kind", "expert", "expert_name", "to_email", "language", "round",
                  "subject", "body", "sent_at"]
        read_only_fields = fields


class InvitationsInputSerializer(serializers.Serializer):
    experts = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_empty=False,
        max_length=5000, help_text="Expert ids to (re)invite; default: every active expert not "
                                   "invited yet.")
    key = serializers.CharField(
        max_length=40, required=False, allow_blank=True,
        help_text="With `experts`: a key of this send, so a retried request sends only once.")


class QueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    messages = MessageSerializer(many=True)


class RemindInputSerializer(serializers.Serializer):
    key = serializers.CharField(min_length=1, max_length=40, help_text=(
        "A key of this reminder (e.g. a UUID): the same key again sends nothing."))


class ReminderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reminder
        fields = ["id", "hours_before", "created_at", "fired_at", "recipients"]
        read_only_fields = fields


class ReminderScheduleSerializer(serializers.Serializer):
    hours_before = serializers.ListField(child=serializers.IntegerField(), min_length=1,
                                         max_length=20, help_text="E.g. [72, 24].")


class PanelImportInputSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=MAX_CSV_BYTES, trim_whitespace=False, help_text=(
        "CSV text with the columns name, email, group, language."))
    dry_run = serializers.BooleanField(default=False, help_text="Only check and report.")


class PanelRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    group = serializers.CharField()
    language = serializers.CharField()


class PanelImportSerializer(serializers.Serializer):
    rows = PanelRowSerializer(many=True, help_text="New experts (added unless dry_run).")
    duplicates = PanelRowSerializer(many=True, help_text="Already on the panel: skipped.")
    added = ExpertSerializer(many=True)


class WithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class EraseInputSerializer(serializers.Serializer):
    confirm = serializers.ChoiceField(choices=["erase"], help_text='"erase", to confirm.')


class RuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsensusRule
        fields = ["definition", "direction", "agree_pct", "iqr_max", "stability", "stability_p",
                  "stability_pct", "stopping", "max_rounds", "aims", "panel_criteria",
                  "rounds_rationale", "revision", "registered_at", "locked_at"]
        read_only_fields = fields


class RuleChangeSerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    changed_at = serializers.DateTimeField()
    after_lock = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    before = serializers.DictField()
    after = serializers.DictField()


class RulesSerializer(serializers.Serializer):
    rule = RuleSerializer(allow_null=True, help_text="null until the rules are registered.")
    locked = serializers.BooleanField(help_text="Round 1 has opened: a change needs a reason.")
    changes = RuleChangeSerializer(many=True)


class RuleInputSerializer(serializers.Serializer):
    """Fields left out keep their registered (or default) value."""

    definition = serializers.ChoiceField(choices=ConsensusRule.Definition.choices, required=False)
    direction = serializers.ChoiceField(choices=ConsensusRule.Direction.choices, required=False)
    agree_pct = serializers.FloatField(required=False)
    iqr_max = serializers.FloatField(required=False)
    stability = serializers.ChoiceField(choices=ConsensusRule.Stability.choices, required=False)
    stability_p = serializers.FloatField(required=False)
    stability_pct = serializers.FloatField(required=False)
    stopping = serializers.ChoiceField(choices=ConsensusRule.Stopping.choices, required=False)
    max_rounds = serializers.IntegerField(required=False, min_value=1, max_value=10)
    aims = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False,
                                 help_text="The study's aims: {\"en\": ..., \"ru\": ...}.")
    panel_criteria = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False,
        help_text="Panel selection criteria and expertise: {\"en\": ..., \"ru\": ...}.")
    rounds_rationale = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False,
        help_text="Why this number of rounds: {\"en\": ..., \"ru\": ...}.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text=(
        "Required (10 characters or more) once round 1 has opened."))


class ProtocolVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    frozen_at = serializers.DateTimeField()
    amendment = serializers.BooleanField(help_text="Frozen after round 1 opened.")
    reason = serializers.CharField(allow_blank=True)
    sha256 = serializers.CharField(help_text="SHA-256 of `canonical` (UTF-8).")
    canonical = serializers.CharField(help_text=(
        "The protocol's canonical JSON (sorted keys, no spaces, UTF-8): the exact text hashed."))
    changed = serializers.ListField(child=serializers.CharField(), help_text=(
        "The protocol's fields (dotted keys) this version changed against the one before."))


class ProtocolSerializer(serializers.Serializer):
    current = ProtocolVersionSerializer(allow_null=True, help_text=(
        "The latest version; null until the rules are registered."))
    versions = ProtocolVersionSerializer(many=True)


class AuditEventSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    action = serializers.CharField()
    detail = serializers.DictField()
