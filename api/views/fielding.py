"""A survey's fielding per collector, through the selector the workspace's page uses."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.views.base import READ_ERRORS, StudyView
from surveys.models import Collector
from surveys.selectors_fielding import fielding_table


class FieldingRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    link = serializers.CharField(help_text="The collector's open link (/s/<token>/).")
    group = serializers.CharField()
    country = serializers.CharField()
    entries = serializers.IntegerField(help_text="Browsers that opened the link.")
    started = serializers.IntegerField(help_text="Began the questions (past consent, screening).")
    completed = serializers.IntegerField()
    screened_out = serializers.IntegerField()
    declined = serializers.IntegerField()
    quota_full = serializers.IntegerField()
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
