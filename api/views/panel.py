"""The panel: organizers manage experts and their links; analysts see pseudonyms only."""

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.permissions import WRITE
from api.serializers.organizer import EraseInputSerializer, WithdrawInputSerializer
from api.serializers.panel import (
    ExpertCreateSerializer,
    ExpertPseudonymSerializer,
    ExpertSerializer,
    InvitationSerializer,
)
from api.services.panel import expert_delete
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView
from surveys.models import Expert, ExpertLink
from surveys.pseudonyms import pseudonym_map
from surveys.services.panel import expert_issue_token
from workspace.services import mail
from workspace.services import panel as panel_services

EXPERTS = PolymorphicProxySerializer(
    component_name="PanelMember",
    serializers=[ExpertSerializer, ExpertPseudonymSerializer], resource_type_field_name=None,
    many=True)


class ExpertFilter(filters.FilterSet):
    group = filters.CharFilter(field_name="group__code", help_text="Stakeholder group code.")
    withdrawn = filters.BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Expert
        fields = ["group", "withdrawn"]


class ExpertList(StudyView):
    """Organizers see names and emails; analysts see pseudonyms, ordered by pseudonym."""

    serializer_class = ExpertSerializer
    filterset_class = ExpertFilter
    queryset = Expert.objects.none()

    def get_queryset(self):
        live = ExpertLink.objects.filter(expert_id=OuterRef("pk"), revoked_at__isnull=True)
        return (self.study.experts.select_related("group").annotate(has_live_link=Exists(live))
                .order_by("group__position", "name", "pk"))

    @extend_schema(responses={200: EXPERTS, **READ_ERRORS})
    def get(self, request, slug):
        experts = self.filter_queryset(self.get_queryset())
        if self.is_organizer:
            return self.paginated(experts, ExpertSerializer)
        rows = list(experts.values_list("pk", "group__code", "withdrawn_at"))
        names = pseudonym_map(study_id=self.study.pk, expert_ids=[pk for pk, _g, _w in rows])
        anonymous = sorted(({"pseudonym": names[pk], "group": group, "withdrawn": withdrawn is not None}
                            for pk, group, withdrawn in rows), key=lambda r: r["pseudonym"])
        return self.paginated(anonymous, ExpertPseudonymSerializer)

    @extend_schema(request=ExpertCreateSerializer, responses={201: ExpertSerializer, **WRITE_ERRORS},
                   description="Add one expert (an email already on the panel is refused); with "
                               "`invite`, the invitation is emailed once the addition commits.")
    def post(self, request, slug):
        data = ExpertCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():
            expert = panel_services.expert_add(
                study=self.study, name=values["name"], email=values["email"],
                group=values["group"], language=values.get("language") or self.study.default_language,
                actor=request.user)
            if values.get("invite"):
                mail.invitations_send(study=self.study, experts=[expert], actor=request.user)
        return Response(ExpertSerializer(expert).data, status=status.HTTP_201_CREATED)


class _OneExpert(StudyView):
    """An expert addressed by id: organizers and owners only (analysts get 404)."""

    serializer_class = ExpertSerializer
    read_roles = write_roles = WRITE
    queryset = Expert.objects.none()

    def get_expert(self, pk: int) -> Expert:
        expert = self.study.experts.select_related("group", "study").filter(pk=pk).first()
        if expert is None:
            raise Http404
        return expert


class ExpertDetail(_OneExpert):
    @extend_schema(responses={200: ExpertSerializer, **READ_ERRORS})
    def get(self, request, slug, pk):
        return Response(ExpertSerializer(self.get_expert(pk)).data)

    @extend_schema(responses={204: None, **WRITE_ERRORS})
    def delete(self, request, slug, pk):
        expert_delete(expert=self.get_expert(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExpertInvitation(_OneExpert):
    """POST issues one more personal link (the links the expert holds keep working); DELETE
    revokes every link of the expert and ends, at their next request, the sessions opened with
    them."""

    @extend_schema(request=None, responses={201: InvitationSerializer, **WRITE_ERRORS})
    def post(self, request, slug, pk):
        token = expert_issue_token(expert=self.get_expert(pk), actor=request.user)
        link = settings.SITE_URL.rstrip("/") + reverse("expert_entry", args=[token])
        return Response({"link": link, "token": token}, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **WRITE_ERRORS})
    def delete(self, request, slug, pk):
        panel_services.expert_revoke_token(expert=self.get_expert(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExpertWithdraw(_OneExpert):
    """Take the expert off the panel: their links and sessions stop working, no more mail;
    answers are kept."""

    @extend_schema(request=WithdrawInputSerializer, responses={200: ExpertSerializer, **WRITE_ERRORS})
    def post(self, request, slug, pk):
        expert = self.get_expert(pk)  # 404 before any complaint about the body
        data = WithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        expert = panel_services.expert_withdraw(expert=expert, actor=request.user,
                                                reason=data.validated_data.get("reason", ""))
        return Response(ExpertSerializer(expert).data)


class ExpertErase(_OneExpert):
    """Erase the expert's personal data on request: name and email become the study pseudonym
    (P-...), their links and sessions stop working; the answers stay."""

    @extend_schema(request=EraseInputSerializer, responses={200: ExpertSerializer, **WRITE_ERRORS})
    def post(self, request, slug, pk):
        expert = self.get_expert(pk)
        EraseInputSerializer(data=request.data).is_valid(raise_exception=True)
        expert = panel_services.expert_erase(expert=expert, actor=request.user)
        return Response(ExpertSerializer(expert).data)

