"""Studies and what they are made of: the study file, themes, groups and items."""

import yaml
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api.permissions import StaffOnly
from api.serializers.builder import (
    GroupInputSerializer,
    ItemInputSerializer,
    StudyUpdateSerializer,
    ThemeInputSerializer,
)
from api.serializers.studies import (
    GroupSerializer,
    ItemSerializer,
    StudyFileSerializer,
    StudySerializer,
    ThemeSerializer,
)
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView
from api.views.builder import ItemWrite, item_save
from surveys.errors import ServiceError, StudyFileError
from surveys.models import Item, StakeholderGroup, Study, StudyMember, Theme
from surveys.studyfile import study_size_problems
from workspace.services import builder, structure, transfer
from workspace.services import panel as panel_services


class StudyFilter(filters.FilterSet):
    class Meta:
        model = Study
        fields = ["status", "mode"]


def as_study_file(data) -> bytes:
    """A study file sent as JSON, as the file the workspace's import reads (JSON is YAML);
    one over the size limits is refused before it is written out."""
    problems = study_size_problems(data) if isinstance(data, dict) else []
    if problems:
        raise StudyFileError(problems)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


class StudyList(GenericAPIView):
    """The studies the caller has a role in; POST creates one from a study file."""

    permission_classes = [StaffOnly]
    serializer_class = StudySerializer
    filterset_class = StudyFilter
    queryset = Study.objects.none()  # the schema's hint; get_queryset() is per user

    def get_queryset(self):
        return Study.objects.filter(members__user=self.request.user).order_by("slug")

    @extend_schema(responses={200: StudySerializer(many=True), **READ_ERRORS})
    def get(self, request):
        studies = self.filter_queryset(self.get_queryset())
        roles = dict(StudyMember.objects.filter(user=request.user).values_list("study_id", "role"))
        page = self.paginate_queryset(studies)
        return self.get_paginated_response(
            StudySerializer(page, many=True, context={"roles": roles}).data)

    @extend_schema(request=StudyFileSerializer, responses={201: StudySerializer, **WRITE_ERRORS})
    def post(self, request):
        # Any staff user may create a study and becomes its owner, as in the workspace.
        StudyFileSerializer(data=request.data).is_valid(raise_exception=True)
        if Study.objects.filter(slug=request.data["slug"]).exists():
            raise ServiceError(_("This slug is taken; choose another."),
                               field_errors={"slug": _("This slug is taken; choose another.")})
        study = transfer.study_yaml_import(content=as_study_file(request.data), actor=request.user)
        body = StudySerializer(study, context={"roles": {study.pk: StudyMember.Role.OWNER}}).data
        return Response(body, status=status.HTTP_201_CREATED)


class StudyDetail(StudyView):
    """One study; PUT updates it in place from its study file (as the workspace's import does:
    an item already asked keeps its wording, locked consensus thresholds stay)."""

    serializer_class = StudySerializer
    queryset = Study.objects.none()

    def _body(self):
        return StudySerializer(self.study, context={"roles": {self.study.pk: self.role}}).data

    @extend_schema(responses={200: StudySerializer, **READ_ERRORS})
    def get(self, request, slug):
        return Response(self._body())

    @extend_schema(request=StudyFileSerializer, responses={200: StudySerializer, **WRITE_ERRORS})
    def put(self, request, slug):
        StudyFileSerializer(data=request.data).is_valid(raise_exception=True)
        if request.data["slug"] != self.study.slug:
            raise ServiceError(_("The study file's slug must be this study's."),
                               field_errors={"slug": _("Expected %(slug)s.") % {"slug": slug}})
        self.study = transfer.study_yaml_import(content=as_study_file(request.data),
                                               study=self.study, actor=request.user)
        return Response(self._body())

    @extend_schema(request=StudyUpdateSerializer, responses={200: StudySerializer, **WRITE_ERRORS},
                   description="Change the study's title and description (English and Russian), "
                               "its experts' link lifetime or min_cell; fields left out keep "
                               "their value.")
    def patch(self, request, slug):
        data = StudyUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        days = changes.pop("link_lifetime_days", None)
        min_cell = changes.pop("min_cell", None)
        with transaction.atomic():  # every change or none
            if days is not None and (days != self.study.link_lifetime_days or not changes):
                self.study = panel_services.study_link_lifetime_set(
                    study=self.study, days=days, actor=request.user)
            if min_cell is not None and (min_cell != self.study.min_cell or not changes):
                self.study = structure.study_min_cell_set(study=self.study, min_cell=min_cell,
                                                          actor=request.user)
            if changes or (days is None and min_cell is None):
                values = {f: getattr(self.study, f) for f in structure.STUDY_FIELDS} | changes
                self.study = structure.study_update(study=self.study, actor=request.user, **values)
        return Response(self._body())


class _ListOf(StudyView):
    def get(self, request, slug):
        return self.paginated(self.filter_queryset(self.get_queryset()), self.serializer_class)


class ThemeList(_ListOf):
    serializer_class = ThemeSerializer
    queryset = Theme.objects.none()

    def get_queryset(self):
        return self.study.themes.order_by("position", "code")

    @extend_schema(responses={200: ThemeSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        return super().get(request, slug)

    @extend_schema(request=ThemeInputSerializer, responses={201: ThemeSerializer, **WRITE_ERRORS},
                   description="Add a theme, or retitle the theme with this code.")
    def post(self, request, slug):
        data = ThemeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        theme = builder.theme_save(study=self.study, actor=request.user, **data.validated_data)
        return Response(ThemeSerializer(theme).data, status=status.HTTP_201_CREATED)


class GroupList(_ListOf):
    serializer_class = GroupSerializer
    queryset = StakeholderGroup.objects.none()

    def get_queryset(self):
        return self.study.groups.order_by("position", "code")

    @extend_schema(responses={200: GroupSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        return super().get(request, slug)

    @extend_schema(request=GroupInputSerializer, responses={201: GroupSerializer, **WRITE_ERRORS},
                   description="Add a stakeholder group, or rename the group with this code.")
    def post(self, request, slug):
        data = GroupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = builder.group_save(study=self.study, actor=request.user, **data.validated_data)
        return Response(GroupSerializer(group).data, status=status.HTTP_201_CREATED)


class ItemFilter(filters.FilterSet):
    theme = filters.CharFilter(field_name="theme__code", help_text="Theme code.")

    class Meta:
        model = Item
        fields = ["theme", "kind"]


class ItemList(_ListOf):
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    queryset = Item.objects.none()

    def get_queryset(self):
        return self.study.items.select_related("theme").order_by("theme__position", "position")

    @extend_schema(responses={200: ItemSerializer(many=True), **READ_ERRORS})
    def get(self, request, slug):
        return super().get(request, slug)

    @extend_schema(request=ItemInputSerializer, responses={201: ItemSerializer, **WRITE_ERRORS},
                   description="Add an item (the study file's shape, checked by its checker; "
                               "problems in `errors.study_file`); it joins a draft round 1.")
    def post(self, request, slug):
        item = item_save(self, request, None)
        return Response(ItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ItemDetail(ItemWrite, StudyView):
    serializer_class = ItemSerializer
    queryset = Item.objects.none()

    @extend_schema(responses={200: ItemSerializer, **READ_ERRORS})
    def get(self, request, slug, code):
        item = self.study.items.select_related("theme").filter(code=code).first()
        if item is None:
            raise Http404
        return Response(ItemSerializer(item).data)
