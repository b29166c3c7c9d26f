"""The expert–public gap: a survey beside its Delphi study, item by item and per country
(`surveys.selectors_gap`, the workspace's Gap page's selector; `analysis.gap` computes)."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.permissions import membership
from api.views.base import READ_ERRORS, StudyView
from surveys.models import Study
from surveys.selectors_gap import gap_panel, gap_records, gap_result


class FlaggedSerializer(serializers.Serializer):
    respondents = serializers.IntegerField()
    flags = serializers.DictField(child=serializers.IntegerField(), help_text=(
        "speeder, straight_lining, instructed_response (failed the attention check), "
        "honeypot: respondents with each flag."))


class GapSerializer(serializers.Serializer):
    survey = serializers.CharField()
    panel = serializers.CharField(allow_null=True, help_text=(
        "The Delphi study compared with: ?panel=, else the survey's `compare_with`; null when "
        "there is none (then `rows` is empty)."))
    weighted = serializers.BooleanField(help_text=(
        "Whether the survey's side is weighted to the margins its study file declares."))
    weighting_problem = serializers.CharField(help_text=(
        "Why the declared margins could not weight the answers (then unweighted); \"\" if none."))
    flagged = FlaggedSerializer(help_text=(
        "The survey respondents left out as flagged (the Gap page's figures): how many, and "
        "how many have each quality flag (one may have several)."))
    rows = serializers.ListField(child=serializers.DictField(), help_text=(
        "analysis.gap's rows (analysis/README.md, \"Expert–public gap\"): per item one row for "
        "all respondents (`category` null), then one per country; NaN as null."))


class Gap(StudyView):
    """The panel's final round (median, IQR, verdict) beside the survey's % agree with its 95 %
    interval overall and per country, the gap with Newcombe's interval and Cliff's delta.
    Every respondent weighs 1 unless margins are declared; flagged respondents are left out
    and counted in `flagged`. The caller must be a member
    of both studies (else 404)."""

    serializer_class = GapSerializer
    pagination_class = None
    queryset = Study.objects.none()

    @extend_schema(parameters=[OpenApiParameter("panel", OpenApiTypes.STR, description=(
        "The Delphi study's slug (default: the survey's compare_with)."))],
        responses={200: GapSerializer, **READ_ERRORS})
    def get(self, request, slug):
        survey = self.study
        wanted = gap_panel(survey=survey, slug=request.query_params.get("panel"))
        rows: list = []
        panel, problem, flagged = None, "", {"respondents": 0, "flags": {}}
        if wanted and survey.mode == Study.Mode.SURVEY:
            panel = membership(user=request.user, slug=wanted).study  # 404 unless a member
            if panel.mode == Study.Mode.SURVEY:
                raise Http404
            table, problem, flagged = gap_result(panel, survey)
            rows = gap_records(table)
        return Response({"survey": survey.slug, "panel": panel.slug if panel else None,
                         "weighted": bool(survey.margins) and not problem and bool(rows),
                         "weighting_problem": problem, "flagged": flagged, "rows": rows})
