"""The organizers' admin until their own pages come; state changes call the services."""

from django.contrib import admin, messages

from surveys.errors import ServiceError
from surveys.models import (
    Aggregate,
    AggregationRun,
    AuditEvent,
    Expert,
    Item,
    Round,
    StakeholderGroup,
    Study,
    StudyMember,
    Theme,
)
from surveys.services.rounds import round_close, round_open


class ThemeInline(admin.TabularInline):
    model = Theme
    extra = 0


class GroupInline(admin.TabularInline):
    model = StakeholderGroup
    extra = 0


class MemberInline(admin.TabularInline):
    model = StudyMember
    extra = 0


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["slug", "title_en", "status"]
    inlines = [GroupInline, ThemeInline, MemberInline]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "theme", "text_en"]
    list_filter = ["study", "kind", "theme"]
    search_fields = ["code", "text_en", "text_ru"]


@admin.register(Expert)
class ExpertAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "group", "language", "withdrawn_at"]
    list_filter = ["study", "group"]
    search_fields = ["name", "email"]
    exclude = ["token_hash"]
    readonly_fields = ["token_issued_at"]


def _run(modeladmin, request, queryset, service, verb):
    for round_ in queryset:
        try:
            service(round_=round_, actor=request.user)
            modeladmin.message_user(request, f"Round {round_.number} {verb}.")
        except ServiceError as exc:
            modeladmin.message_user(request, exc.message, level=messages.ERROR)


@admin.action(description="Open the selected draft rounds")
def open_rounds(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, round_open, "opened")


@admin.action(description="Close the selected open rounds (aggregation follows)")
def close_rounds(modeladmin, request, queryset):
    _run(modeladmin, request, queryset, round_close, "closed")


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ["study", "number", "status", "opens_at", "closes_at", "aggregated_at"]
    readonly_fields = ["status", "opens_at", "closed_at", "aggregated_at"]
    actions = [open_rounds, close_rounds]


@admin.register(Aggregate)
class AggregateAdmin(admin.ModelAdmin):
    list_display = ["round", "item", "dimension", "group", "n", "median", "iqr", "pct_agree",
                    "pct_disagree", "verdict", "stable"]
    list_filter = ["round", "group", "verdict"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AggregationRun)
class AggregationRunAdmin(admin.ModelAdmin):
    """Each computation of a round's snapshot: its progress, timing and round-wide figures."""

    list_display = ["round", "version", "kind", "status", "progress", "chunks", "answers", "rows",
                    "seconds", "finished_at"]
    list_filter = ["kind", "status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "study", "actor", "action"]
    list_filter = ["study", "action"]

    def has_change_permission(self, request, obj=None):
        return False
