"""Fielding an attitude survey: consent texts, collectors (open recruitment links) and each
respondent's entry through one of them.

A respondent is an Expert row of the survey study (its group from the collector; no name and
no email), so responses, answers, aggregation and exports work unchanged. An Entry with no
collector records a Delphi expert's consent when the study asks for it.
"""

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def redirect_url_check(url: str) -> None:
    """A redirect is https, or http on this machine (127.0.0.1 or localhost) for tests."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost"}
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise ValidationError(_("Enter an https:// address (http:// only on 127.0.0.1 or "
                                "localhost)."))


def collector_token() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


class ConsentText(models.Model):
    """One version of a study's consent text; the newest is shown, older ones are kept."""

    study = models.ForeignKey("surveys.Study", on_delete=models.PROTECT, related_name="consent_texts")
    version = models.CharField(max_length=30)
    text_en = models.TextField()
    text_ru = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["study", "version"],
                                               name="uniq_consent_version")]

    def __str__(self) -> str:
        return f"{self.study_id} consent {self.version}"

    @property
    def text(self) -> str:
        from surveys.models import _localized

        return _localized(self, "text")


class Collector(models.Model):
    """An open recruitment link /s/<token>/ with its group, country label, quota and dates."""

    study = models.ForeignKey("surveys.Study", on_delete=models.PROTECT, related_name="collectors")
    code = models.CharField(max_length=50)
    token = models.CharField(max_length=64, unique=True, default=collector_token, editable=False)
    group = models.ForeignKey("surveys.StakeholderGroup", on_delete=models.PROTECT, related_name="+")
    country = models.CharField(max_length=100, blank=True)
    quota = models.PositiveIntegerField(null=True, blank=True)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    complete_redirect = models.URLField(max_length=500, blank=True,
                                        validators=[redirect_url_check])
    screenout_redirect = models.URLField(max_length=500, blank=True,
                                         validators=[redirect_url_check])
    id_param = models.CharField(max_length=30, default="pid")
    # Completions faster than this many seconds are flagged as speeders (0: no flag).
    speeder_seconds = models.PositiveIntegerField(default=0)
    # Arrivals turned away at the link because the quota was full (once per browser): no entry
    # is made for them and nothing about them is stored, only this count.
    turned_away = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="uniq_collector")]

    def __str__(self) -> str:
        return f"{self.study_id}/{self.code}"


class Entry(models.Model):
    """One respondent's way through a collector (or a Delphi expert's consent: no collector)."""

    class Status(models.TextChoices):
        CONSENT = "consent", _("Consent")
        SCREENING = "screening", _("Screening")
        ANSWERING = "answering", _("Answering")
        COMPLETED = "completed", _("Completed")
        DECLINED = "declined", _("Declined")
        SCREENED_OUT = "screened_out", _("Screened out")
        QUOTA_FULL = "quota_full", _("Quota full")

    collector = models.ForeignKey(Collector, on_delete=models.PROTECT, related_name="entries",
                                  null=True, blank=True)
    expert = models.OneToOneField("surveys.Expert", on_delete=models.PROTECT, related_name="entry")
    external_id = models.CharField(max_length=100, blank=True)
    browser_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.CONSENT)
    consent_version = models.CharField(max_length=30, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The pages saved with "Next" (the next visit resumes after them).
    pages_done = models.PositiveSmallIntegerField(default=0)
    flags = models.JSONField(default=dict, blank=True)
    screening = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collector", "external_id"],
                                    condition=~models.Q(external_id=""),
                                    name="uniq_entry_external_id"),
            models.UniqueConstraint(fields=["collector", "browser_hash"],
                                    condition=~models.Q(browser_hash=""),
                                    name="uniq_entry_browser"),
        ]
        indexes = [models.Index(fields=["collector", "status"], name="entry_status")]

    def __str__(self) -> str:
        return f"entry {self.pk} ({self.status})"
