"""Study import and export as the workspace does them: the study file (YAML) and the item list
(CSV), checked in full first (every problem with its location, nothing changed), applied only
when asked; a new study, empty or from a study file."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api.permissions import StaffOnly
from api.serializers.builder import (
    FileInputSerializer,
    ImportReportSerializer,
    StudyCreateSerializer,
)
from api.serializers.studies import StudyFileSerializer, StudySerializer
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView
from api.views.results import _AnyAccept
from surveys.errors import StudyFileError
from surveys.models import Study, StudyMember
from workspace.services import builder, transfer

FILE_ERRORS = {**WRITE_ERRORS}
FILE_DOC = ("With `apply: false` the file is only checked; with `apply: true` a clean file is "
            "applied. A file with problems changes nothing and answers 400 with every problem, "
            "located, in `errors.study_file`.")


def _report(report, *, applied: bool) -> dict:
    if report.problems:
        raise StudyFileError(report.problems)
    return ImportReportSerializer({
        "slug": (report.data or {}).get("slug", ""), "created": report.created,
        "items_new": report.items_new, "items_changed": report.items_changed,
        "applied": applied}).data


def _content(request) -> tuple[bytes, bool]:
    data = FileInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data["content"].encode("utf-8"), data.validated_data["apply"]


class _FileView(StudyView):
    serializer_class = ImportReportSerializer
    pagination_class = None
    queryset = Study.objects.none()  # the schema's hint
    content_negotiation_class = _AnyAccept
    media_type = ""
    suffix = ""

    def download(self, body: str) -> HttpResponse:
        response = HttpResponse(body, content_type=f"{self.media_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.study.slug}{self.suffix}"'
        response["Cache-Control"] = "private, no-store"
        return response


class StudyFile(_FileView):
    """The study file (YAML, the format of `load_study`): download it, or check and apply one."""

    media_type, suffix = "application/yaml", ".yaml"

    @extend_schema(responses={(200, "application/yaml"): StudyFileSerializer, **READ_ERRORS})
    def get(self, request, slug):
        return self.download(transfer.study_export_yaml(self.study))

    @extend_schema(request=FileInputSerializer, responses={200: ImportReportSerializer,
                                                           **FILE_ERRORS}, description=FILE_DOC)
    def post(self, request, slug):
        content, apply = _content(request)
        report = transfer.study_yaml_check(content=content, study=self.study)
        if apply and not report.problems:
            transfer.study_yaml_import(content=content, study=self.study, actor=request.user)
        return Response(_report(report, applied=apply))


class ItemList(_FileView):
    """The item list (CSV: theme, code, kind, text_en, text_ru, ...; formula-like cells quoted):
    download it, or check and apply one (new codes add items, known codes change them)."""

    media_type, suffix = "text/csv", "-items.csv"

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY, **READ_ERRORS})
    def get(self, request, slug):
        return self.download(transfer.items_export_csv(self.study))

    @extend_schema(request=FileInputSerializer, responses={200: ImportReportSerializer,
                                                           **FILE_ERRORS}, description=FILE_DOC)
    def post(self, request, slug):
        content, apply = _content(request)
        report = transfer.items_csv_check(content=content, study=self.study)
        if apply and not report.problems:
            transfer.items_csv_import(content=content, study=self.study, actor=request.user)
        return Response(_report(report, applied=apply))


class StudyImport(GenericAPIView):
    """A new study from a study file (YAML); its importer owns it."""

    permission_classes = [StaffOnly]
    serializer_class = ImportReportSerializer
    pagination_class = None
    queryset = Study.objects.none()

    @extend_schema(request=FileInputSerializer, responses={
        200: ImportReportSerializer, 201: ImportReportSerializer, **FILE_ERRORS},
        description=FILE_DOC + " Applied, it answers 201.")
    def post(self, request):
        content, apply = _content(request)
        report = transfer.study_yaml_check(content=content)
        if apply and not report.problems:
            transfer.study_yaml_import(content=content, actor=request.user)
        return Response(_report(report, applied=apply),
                        status=status.HTTP_201_CREATED if apply else status.HTTP_200_OK)


class StudyCreate(GenericAPIView):
    """A new, empty draft study (then add its groups, themes and items); its creator owns it."""

    permission_classes = [StaffOnly]
    serializer_class = StudySerializer
    queryset = Study.objects.none()

    @extend_schema(request=StudyCreateSerializer, responses={201: StudySerializer, **WRITE_ERRORS})
    def post(self, request):
        data = StudyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        study = builder.study_create(actor=request.user, **data.validated_data)
        body = StudySerializer(study, context={"roles": {study.pk: StudyMember.Role.OWNER}}).data
        return Response(body, status=status.HTTP_201_CREATED)
