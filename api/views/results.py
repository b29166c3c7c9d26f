"""Reports and exports of a study for its staff (read only; experts under pseudonyms)."""

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from api.serializers.studies import AggregateSerializer, RateSerializer, RoundSerializer
from api.views.base import READ_ERRORS, StudyView
from surveys.exports import FORMATS, export_bytes, export_filename
from surveys.figures import participation
from surveys.models import Study
from surveys.selectors import round_current
from surveys.selectors_staff import panel_results

REPORT = inline_serializer("Report", fields={
    "rounds": RoundSerializer(many=True),
    "current_round": serializers.IntegerField(allow_null=True),
    "rates": RateSerializer(many=True),
    "latest_aggregated_round": serializers.IntegerField(allow_null=True),
    "results": AggregateSerializer(many=True, help_text="The panel's results in that round."),
})


class Report(StudyView):
    """What the study overview page shows: rounds, response rates and the latest results."""

    serializer_class = RoundSerializer
    pagination_class = None
    queryset = Study.objects.none()  # the schema's hint

    @extend_schema(responses={200: REPORT, **READ_ERRORS})
    def get(self, request, slug):
        rounds = list(self.study.rounds.prefetch_related("items").order_by("number"))
        current = round_current(self.study)
        aggregated = [r for r in rounds if r.aggregated_at is not None]
        latest = aggregated[-1] if aggregated else None
        results = [] if latest is None else panel_results(latest)
        rates = [] if current is None else [
            {**rate, "group": rate["group"].code if rate["group"] else ""}
            for rate in participation(current)]
        return Response({
            "rounds": RoundSerializer(rounds, many=True).data,
            "current_round": current.number if current else None,
            "rates": RateSerializer(rates, many=True).data,
            "latest_aggregated_round": latest.number if latest else None,
            "results": AggregateSerializer(results, many=True).data,
        })


class _AnyAccept(BaseContentNegotiation):
    """The file is what it is: an Accept header asking for text/csv must not get 406."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Export(StudyView):
    """The study's answers as a file (one of surveys.exports.FORMATS); experts appear under
    stable per-study pseudonyms only, and spreadsheet formulas are neutralized."""

    serializer_class = RoundSerializer
    pagination_class = None
    queryset = Study.objects.none()  # the schema's hint
    content_negotiation_class = _AnyAccept

    @extend_schema(
        parameters=[OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(FORMATS))],
        responses={**{(200, f.content_type.split(";")[0]): OpenApiTypes.BINARY
                      for f in FORMATS.values()}, **READ_ERRORS})
    def get(self, request, slug, fmt):
        if fmt not in FORMATS:
            raise Http404
        response = HttpResponse(export_bytes(self.study, fmt), content_type=FORMATS[fmt].content_type)
        response["Content-Disposition"] = f'attachment; filename="{export_filename(self.study, fmt)}"'
        response["Cache-Control"] = "private, no-store"
        return response
