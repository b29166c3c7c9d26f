"""The organizer's records beside the Delphi domain: registered rules, sends, reminders, lineage.

These live in their own app so they never touch the surveys tables; they point at surveys rows.
Writes go through workspace.services, reads through workspace.selectors.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from analysis.exported import consensus_rule, stability_rule
from surveys.models import Expert, Item, Round, Study


class ConsensusRule(models.Model):
    """The consensus, stability and stopping rules a study registers before round 1 opens."""

    class Definition(models.TextChoices):
        AGREEMENT = "agreement", _("% agreement in the top boxes")
        IQR = "iqr", _("Interquartile range")
        COMBINED = "combined", _("% agreement and interquartile range together")
        RAND_UCLA = "rand_ucla", _("RAND/UCLA (9-point scale)")

    class Stability(models.TextChoices):
        WILCOXON = "wilcoxon", _("Wilcoxon signed-rank test between rounds")
        DISTRIBUTION = "distribution", _("Change in the distribution between rounds")

    class Stopping(models.TextChoices):
        MAX_ROUNDS = "max_rounds", _("A maximum number of rounds")
        CONVERGED = "converged", _("Every item has reached consensus or stability")

    # What an organizer registers (the rest is bookkeeping): the rules page, the API and the
    # study file's `consensus` block all take these. RULES decide verdicts; TEXTS are the
    # protocol's own words, each {language: text}.
    RULES = ("definition", "direction", "agree_pct", "iqr_max", "stability", "stability_p",
             "stability_pct", "stopping", "max_rounds")
    TEXTS = ("aims", "panel_criteria", "rounds_rationale")
    REGISTERED = RULES + TEXTS

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="consensus_rule")
    class Direction(models.TextChoices):
        EITHER = "either", _("Agreement or rejection")
        AGREE = "agree", _("Agreement only (top boxes)")
        DISAGREE = "disagree", _("Rejection only (bottom boxes)")

    definition = models.CharField(max_length=12, choices=Definition, default=Definition.COMBINED)
    direction = models.CharField(max_length=8, choices=Direction, default=Direction.EITHER)
    agree_pct = models.FloatField(default=75.0)
    iqr_max = models.FloatField(default=1.0)
    stability = models.CharField(max_length=12, choices=Stability, default=Stability.WILCOXON)
    stability_p = models.FloatField(default=0.05)
    stability_pct = models.FloatField(default=15.0)
    stopping = models.CharField(max_length=12, choices=Stopping, default=Stopping.MAX_ROUNDS)
    max_rounds = models.PositiveSmallIntegerField(default=3)
    aims = models.JSONField(default=dict, blank=True,
                            help_text=_("The study's aims, per language."))
    panel_criteria = models.JSONField(
        default=dict, blank=True,
        help_text=_("Who may sit on the panel: selection criteria and expertise, per language."))
    rounds_rationale = models.JSONField(
        default=dict, blank=True,
        help_text=_("Why this number of rounds is planned, per language."))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.study.slug} rule r{self.revision}"

    def registered_values(self) -> dict:
        """The registered fields as plain values (a study file's `consensus` block)."""
        return {field: str(value) if isinstance(value, str) else value
                for field, value in ((f, getattr(self, f)) for f in self.REGISTERED)}

    def as_dict(self) -> dict:
        """The consensus rule as analysis.consensus reads it, with the organizer's terms beside."""
        spec = consensus_rule(self.registered_values())
        return {**spec, "definition": self.definition, "agree_pct": self.agree_pct,
                "iqr_max": self.iqr_max}

    def stability_dict(self) -> dict:
        return stability_rule(self.registered_values())

    def stopping_dict(self) -> dict:
        if self.stopping == self.Stopping.MAX_ROUNDS:
            return {"kind": "max_rounds", "rounds": self.max_rounds}
        return {"kind": "converged", "max_rounds": self.max_rounds}

    def snapshot(self) -> dict:
        """Everything registered, for the audit trail's before/after."""
        return {"consensus": self.as_dict(), "stability": self.stability_dict(),
                "stopping": self.stopping_dict(),
                "texts": {field: dict(getattr(self, field) or {}) for field in self.TEXTS}}


class ConsensusRuleChange(models.Model):
    """A registration or change of the rules; after the lock it carries a written reason."""

    rule = models.ForeignKey(ConsensusRule, on_delete=models.CASCADE, related_name="changes")
    revision = models.PositiveIntegerField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    after_lock = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["revision"]
        constraints = [models.UniqueConstraint(fields=["rule", "revision"], name="uniq_rule_revision")]

    def __str__(self) -> str:
        return f"rule {self.rule_id} r{self.revision}"


class ProtocolVersion(models.Model):
    """One frozen version of the study's registered protocol: its canonical JSON (the exact
    bytes, UTF-8, whose SHA-256 is `sha256`) and when it was frozen. A version written after
    round 1 opened is an amendment and carries the written reason of its rule change."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="protocol_versions")
    version = models.PositiveIntegerField()
    change = models.OneToOneField(ConsensusRuleChange, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="protocol")
    canonical = models.TextField()
    sha256 = models.CharField(max_length=64)
    frozen_at = models.DateTimeField()
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    amendment = models.BooleanField(default=False)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["study", "version"]
        constraints = [models.UniqueConstraint(fields=["study", "version"],
                                               name="uniq_protocol_version")]

    def __str__(self) -> str:
        return f"{self.study_id} protocol v{self.version}"


class Reminder(models.Model):
    """One reminder to the round's non-responders: scheduled (hours before closing) or by hand.

    `fired_at` is claimed with a conditional UPDATE, so a reminder is sent at most once.
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="reminders")
    hours_before = models.PositiveIntegerField(null=True, blank=True,
                                               help_text=_("Empty for a reminder sent by hand."))
    key = models.CharField(max_length=80, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["round", "-hours_before"]
        constraints = [models.UniqueConstraint(fields=["round", "hours_before"],
                                               name="uniq_reminder_offset")]

    def __str__(self) -> str:
        return f"reminder {self.key}"

    def offset(self) -> timedelta:
        """How long before the round closes this reminder goes out (0 for one sent by hand)."""
        return timedelta(hours=self.hours_before or 0)


class Message(models.Model):
    """One email to one expert; `key` makes a send happen at most once."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        REMINDER = "reminder", _("Reminder")
        ROUND_OPENED = "round_opened", _("Round opened")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="messages")
    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="messages")
    round = models.ForeignKey(Round, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reminder = models.ForeignKey(Reminder, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="messages")
    kind = models.CharField(max_length=12, choices=Kind)
    key = models.CharField(max_length=120, unique=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    to_email = models.EmailField(blank=True)
    language = models.CharField(max_length=2, default="en")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["study", "status"])]

    # Why the platform itself did not send a message (stored in English in `error`, as the API
    # gives it; the workspace shows it in the organizer's language).
    WITHDRAWN = "withdrawn before sending"
    REVOKED = "link revoked before sending"
    NOT_SENT = {WITHDRAWN: _("withdrawn before sending"), REVOKED: _("link revoked before sending")}

    def __str__(self) -> str:
        return f"{self.kind} {self.key} {self.status}"

    def error_text(self) -> str:
        """The error as the organizer reads it: the platform's own reasons translated."""
        return self.NOT_SENT.get(self.error, self.error)


class OutboxMessage(models.Model):
    """A message as the expert received it (subject, body with their link, language), kept for
    the study's organizers where mail leaves nothing behind (settings.AGORA_OUTBOX)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="outbox")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="outbox")
    to_email = models.EmailField()
    language = models.CharField(max_length=2)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"outbox {self.message_id}"


class ItemOrigin(models.Model):
    """Where an item asked in a round comes from: its history and provenance across rounds."""

    class Relation(models.TextChoices):
        CARRIED = "carried", _("carried over")
        KEPT = "kept", _("kept despite consensus")
        REWORDED = "reworded", _("reworded")
        SPLIT = "split", _("split")
        MERGED = "merged", _("merged")
        ADDED = "added", _("added")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="origins")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="item_origins")
    relation = models.CharField(max_length=10, choices=Relation)
    source_item = models.ForeignKey(Item, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="derived")
    source_round = models.ForeignKey(Round, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "item", "pk"]
        constraints = [models.UniqueConstraint(fields=["item", "round", "source_item"],
                                               name="uniq_item_origin")]

    def __str__(self) -> str:
        return f"{self.item_id} {self.relation} from {self.source_item_id}"
