"""Rounds: create, open, close (aggregation follows), delete a draft; results and rates."""

from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.serializers.rounds import RoundStartSerializer
from api.serializers.studies import (
    AggregateSerializer,
    RateSerializer,
    RoundCreateSerializer,
    RoundSerializer,
)
from api.services.panel import round_delete
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView
from surveys.errors import ServiceError
from surveys.figures import participation
from surveys.models import Aggregate, Round
from surveys.services.rounds import round_close
from workspace.services import planning
from workspace.services.rounds import round_start


class RoundFilter(filters.FilterSet):
    class Meta:
        model = Round
        fields = ["status"]


class _RoundView(StudyView):
    serializer_class = RoundSerializer
    queryset = Round.objects.none()  # the schema's hint; views read through self.study

    def get_round(self, number: int) -> Round:
        round_ = self.study.rounds.filter(number=number).first()
        if round_ is None:
            raise Http404
        return round_


class RoundList(_RoundView):
    filterset_class = RoundFilter

    def get_queryset(self):
        return self.study.rounds.prefetch_related("items").order_by("number")

    @extend_schema(responses={200: RoundSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        return self.paginated(self.filter_queryset(self.get_queryset()), RoundSerializer)

    @extend_schema(request=RoundCreateSerializer, responses={201: RoundSerializer, **WRITE_ERRORS},
                   description="Create the next round as a draft. A later round records where "
                               "each item comes from, as `rounds/plan/` does: the last round's "
                               "items carried over (or kept despite consensus), others added.")
    def post(self, request, slug):
        data = RoundCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = None
        codes = data.validated_data.get("items")
        if codes is not None:
            found = {item.code: item for item in self.study.items.filter(code__in=codes)}
            unknown = sorted(set(codes) - set(found))
            if unknown:
                raise ServiceError(_("Unknown items."), field_errors={"items": ", ".join(unknown)})
            items = [found[code] for code in dict.fromkeys(codes)]
        round_ = planning.round_next(study=self.study, items=items, actor=request.user)
        return Response(RoundSerializer(round_).data, status=status.HTTP_201_CREATED)


class RoundDetail(_RoundView):
    @extend_schema(responses={200: RoundSerializer, **READ_ERRORS})
    def get(self, request, slug, number):
        return Response(RoundSerializer(self.get_round(number)).data)

    @extend_schema(responses={204: None, **WRITE_ERRORS})
    def delete(self, request, slug, number):
        round_delete(round_=self.get_round(number), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoundOpen(_RoundView):
    """Open a draft round to the panel now or at `opens_at` (optionally until `closes_at`);
    round 1 needs the registered rules and locks them as it opens."""

    @extend_schema(request=RoundStartSerializer, responses={200: RoundSerializer, **WRITE_ERRORS})
    def post(self, request, slug, number):
        round_ = self.get_round(number)
        data = RoundStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        round_ = round_start(round_=round_, actor=request.user,
                             opens_at=values.get("opens_at"), closes_at=values.get("closes_at"))
        return Response(RoundSerializer(round_).data)


class RoundClose(_RoundView):
    """Close an open round; its aggregation is enqueued once the close has committed."""

    @extend_schema(request=None, responses={200: RoundSerializer, **WRITE_ERRORS})
    def post(self, request, slug, number):
        round_ = round_close(round_=self.get_round(number), actor=request.user)
        return Response(RoundSerializer(round_).data)


class AggregateFilter(filters.FilterSet):
    item = filters.CharFilter(field_name="item__code", help_text="Item code.")
    group = filters.CharFilter(help_text="Stakeholder group code; empty for the whole panel.")

    class Meta:
        model = Aggregate
        fields = ["item", "dimension", "group"]


class AggregateList(_RoundView):
    """The round's snapshot: per item and dimension, for the panel and each group."""

    serializer_class = AggregateSerializer
    filterset_class = AggregateFilter
    queryset = Aggregate.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Aggregate.objects.none()
        return (Aggregate.objects.filter(round=self.get_round(self.kwargs["number"]))
                .select_related("item", "run").order_by("item__theme__position", "item__position",
                                                  "dimension", "group"))

    @extend_schema(responses={200: AggregateSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug, number):
        return self.paginated(self.filter_queryset(self.get_queryset()), AggregateSerializer)


class RateList(_RoundView):
    """Response rates by stakeholder group."""

    serializer_class = RateSerializer
    pagination_class = None  # one row per stakeholder group

    @extend_schema(responses={200: RateSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug, number):
        rates = [{**rate, "group": rate["group"].code if rate["group"] else ""}
                 for rate in participation(self.get_round(number))]
        return Response(RateSerializer(rates, many=True).data)
