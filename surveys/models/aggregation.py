"""The aggregation's snapshots: a round's statistics per item, dimension and group, the runs
that compute them (with the rules their verdicts are under) and the parts of chunked runs."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Verdict(models.TextChoices):
    """A consensus verdict (analysis.consensus.verdicts); no verdict is stored as ''."""

    AGREE = "agree", _("consensus: agree")
    DISAGREE = "disagree", _("consensus: disagree")
    NONE = "none", _("no consensus")


class Aggregate(models.Model):
    """The snapshot of one round's answers on an item and dimension, for the panel or a group."""

    round = models.ForeignKey("surveys.Round", on_delete=models.PROTECT, related_name="aggregates")
    item = models.ForeignKey("surveys.Item", on_delete=models.PROTECT, related_name="aggregates")
    dimension = models.CharField(max_length=50, blank=True, default="")
    group = models.CharField(max_length=20, blank=True, default="", help_text=_("'' = panel"))
    n = models.PositiveIntegerField()
    no_opinion = models.PositiveIntegerField(default=0)
    median = models.FloatField(null=True)
    q1 = models.FloatField(null=True)
    q3 = models.FloatField(null=True)
    iqr = models.FloatField(null=True)
    mean = models.FloatField(null=True)
    sd = models.FloatField(null=True)
    pct_agree = models.FloatField(null=True)
    pct_disagree = models.FloatField(null=True)
    distribution = models.JSONField(default=dict)
    # The verdict under the rule its run records (AggregationRun.rule): '' = no verdict.
    verdict = models.CharField(max_length=8, choices=Verdict, blank=True, default="")
    # Stable against the round before under the same rule; null: no verdict (round 1, no pairs).
    stable = models.BooleanField(null=True)
    median_change = models.FloatField(null=True)
    extra = models.JSONField(default=dict)
    # The computation (round, version) that wrote this row; null only for pre-versioning rows.
    run = models.ForeignKey("AggregationRun", on_delete=models.PROTECT, null=True, blank=True,
                            related_name="aggregates")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "item", "dimension", "group"], name="uniq_aggregate"
            )
        ]

    def __str__(self) -> str:
        return f"round {self.round_id} item {self.item_id} {self.dimension} {self.group or 'panel'}"


class AggregationRun(models.Model):
    """One computation of a round's snapshot, version `version`: done at most once.

    The round's Aggregate rows always belong to its latest finished run; an older or repeated
    run never writes over a newer one. Live runs refresh the open round of a Real-Time study.
    """

    class Kind(models.TextChoices):
        ROUND = "round", _("Round snapshot")
        LIVE = "live", _("Live statistics")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        SUPERSEDED = "superseded", _("Superseded")
        FAILED = "failed", _("Failed")

    round = models.ForeignKey("surveys.Round", on_delete=models.PROTECT, related_name="aggregation_runs")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.ROUND)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    phase = models.CharField(max_length=20, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("Percent done."))
    answers = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0, help_text=_("0 = computed in one task."))
    chunks_done = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    panel = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # The rules the verdicts were computed under (ConsensusRule.snapshot()) and their revision;
    # revision null: no rule was registered, the default rule applied.
    rule = models.JSONField(default=dict, blank=True)
    rule_revision = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["round", "version"]
        constraints = [
            models.UniqueConstraint(fields=["round", "version"], name="uniq_aggregation_run")
        ]

    def __str__(self) -> str:
        return f"round {self.round_id} v{self.version} {self.kind} {self.status}"


class LiveArguments(models.Model):
    """The panel's arguments a live run published with its figures (per item id: rationale id,
    author id, values, text): experts read these until the next run, never the rationales as
    they stand this second. A table of its own, so reading a run never loads them."""

    run = models.OneToOneField(AggregationRun, on_delete=models.CASCADE,
                               related_name="live_arguments")
    arguments = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"arguments of run {self.run_id}"


class AggregationChunk(models.Model):
    """A part of a chunked run: some items' rows, or (items null) the round-wide statistics."""

    run = models.ForeignKey(AggregationRun, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField()
    items = models.JSONField(null=True, blank=True)
    done = models.BooleanField(default=False)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="uniq_aggregation_chunk")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index}"
