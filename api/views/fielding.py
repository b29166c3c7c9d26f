"""A survey's fielding per collector, through the selector the workspace's page uses."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.views.base import READ_ERRORS, StudyView
from surveys.models import Collector
from surveys.selectors_fielding import fielding_dashboard, fielding_table


class FieldingRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    link = serializers.CharField(help_text="The collector's open link (/s/<token>/).")
    group = serializers.CharField()
    country = serializers.CharField()
    entries = serializers.IntegerField(help_text=(
        "Browsers that opened the link, those a full quota turned away at it included."))
    consented = serializers.IntegerField(help_text="Agreed to the consent text.")
    started = serializers.IntegerField(help_text="Began the questions (past consent, screening).")
    completed = serializers.IntegerField()
    screened_out = serializers.IntegerField()
    declined = serializers.IntegerField()
    quota_full = serializers.IntegerField(help_text=(
        "Turned away by a full quota: on opening the link (counted once per browser, nothing "
        "else kept) or on reaching the end (the answers stay a draft)."))
    flagged = serializers.IntegerField(help_text="Completed with a quality flag.")
    quota = serializers.IntegerField(allow_null=True)
    fill_pct = serializers.FloatField(allow_null=True)
    median_seconds = serializers.IntegerField(allow_null=True, help_text=(
        "Median seconds from the first question to completion."))


class Fielding(StudyView):
    """Per collector: started, completed, screened out, declined, quota full, flagged and the
    quota's fill, and the median completion time."""

    serializer_class = FieldingRowSerializer
    pagination_class = None
    queryset = Collector.objects.none()

    @extend_schema(responses={200: FieldingRowSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        rows = fielding_table(self.study)
        for row in rows:
            row["link"] = request.build_absolute_uri(f"/s/{row['collector'].token}/")
        return Response(FieldingRowSerializer(rows, many=True).data)


class BinSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Seconds, inclusive.")
    end = serializers.IntegerField(allow_null=True, help_text="Seconds, exclusive; null: open.")
    count = serializers.IntegerField()


class TimesSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Completed entries with a start time.")
    median = serializers.FloatField(allow_null=True)
    q1 = serializers.FloatField(allow_null=True)
    q3 = serializers.FloatField(allow_null=True)
    width = serializers.IntegerField(allow_null=True, help_text="Each bin's width in seconds.")
    thresholds = serializers.ListField(child=serializers.IntegerField(), help_text=(
        "The collectors' speeder thresholds (speeder_seconds) in seconds."))
    below_threshold = serializers.IntegerField(help_text="Completions under the threshold.")
    bins = BinSerializer(many=True)


class DashboardRowSerializer(FieldingRowSerializer):
    full = serializers.BooleanField(help_text="The quota is reached.")
    times = TimesSerializer(help_text="This collector's completion times.")


class TotalsSerializer(serializers.Serializer):
    entries = serializers.IntegerField()
    consented = serializers.IntegerField()
    started = serializers.IntegerField()
    completed = serializers.IntegerField()
    screened_out = serializers.IntegerField()
    declined = serializers.IntegerField()
    quota_full = serializers.IntegerField()
    flagged = serializers.IntegerField()
    quota = serializers.IntegerField(allow_null=True, help_text="Null unless every collector "
                                     "has a quota.")
    fill_pct = serializers.FloatField(allow_null=True)
    quotas_full = serializers.IntegerField(help_text="Collectors whose quota is reached.")
    median_seconds = serializers.IntegerField(allow_null=True)


class FieldingDashboardSerializer(serializers.Serializer):
    open = serializers.BooleanField(help_text="Still fielding: the round is open and a "
                                    "collector is not closed.")
    updated_at = serializers.DateTimeField()
    rows = DashboardRowSerializer(many=True)
    totals = TotalsSerializer()
    times = TimesSerializer(help_text="Completion times over all collectors.")


class FieldingDashboard(StudyView):
    """The workspace's Fielding page as data: per collector and in total the counts and the
    quota's fill, and the completion-time distribution (the same bins the page draws)."""

    serializer_class = FieldingDashboardSerializer
    pagination_class = None
    queryset = Collector.objects.none()

    @extend_schema(responses={200: FieldingDashboardSerializer, **READ_ERRORS})
    def get(self, request, slug):
        dashboard = fielding_dashboard(self.study)
        for row in dashboard["rows"]:
            row["link"] = request.build_absolute_uri(f"/s/{row['collector'].token}/")
        return Response(FieldingDashboardSerializer(dashboard).data)
