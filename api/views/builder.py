"""The item builder through the API: groups, themes and items, each change by the workspace's
own services (the pages and the API refuse the same things), and an item's history."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.serializers.builder import (
    GroupNamesSerializer,
    ItemHistorySerializer,
    ItemInputSerializer,
    ThemeTitlesSerializer,
)
from api.serializers.studies import GroupSerializer, ItemSerializer, ThemeSerializer
from api.views.base import READ_ERRORS, WRITE_ERRORS, StudyView, errors, one
from surveys.errors import ServiceError
from surveys.models import Item, StakeholderGroup, Theme
from workspace.selectors import item_history
from workspace.services import builder, structure

DELETE_ERRORS = errors(400, 401, 403, 404, 429)


class GroupDetail(StudyView):
    """A stakeholder group: rename it (its code stays) or delete it while nothing refers to it."""

    serializer_class = GroupSerializer
    queryset = StakeholderGroup.objects.none()

    def get_group(self, code: str) -> StakeholderGroup:
        return one(self.study.groups, code=code)

    @extend_schema(responses={200: GroupSerializer, **READ_ERRORS})
    def get(self, request, slug, code):
        return Response(GroupSerializer(self.get_group(code)).data)

    @extend_schema(request=GroupNamesSerializer, responses={200: GroupSerializer, **WRITE_ERRORS})
    def patch(self, request, slug, code):
        group = self.get_group(code)
        data = GroupNamesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = structure.group_rename(group=group, actor=request.user, **data.validated_data)
        return Response(GroupSerializer(group).data)

    @extend_schema(responses={204: None, **DELETE_ERRORS},
                   description="Refused (400, with the reason) while experts or results refer to "
                               "the group.")
    def delete(self, request, slug, code):
        structure.group_delete(group=self.get_group(code), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThemeDetail(StudyView):
    """A theme: retitle it (its code stays) or delete it once it has no items."""

    serializer_class = ThemeSerializer
    queryset = Theme.objects.none()

    def get_theme(self, code: str) -> Theme:
        return one(self.study.themes, code=code)

    @extend_schema(responses={200: ThemeSerializer, **READ_ERRORS})
    def get(self, request, slug, code):
        return Response(ThemeSerializer(self.get_theme(code)).data)

    @extend_schema(request=ThemeTitlesSerializer, responses={200: ThemeSerializer, **WRITE_ERRORS})
    def patch(self, request, slug, code):
        theme = self.get_theme(code)
        data = ThemeTitlesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        theme = structure.theme_rename(theme=theme, actor=request.user, **data.validated_data)
        return Response(ThemeSerializer(theme).data)

    @extend_schema(responses={204: None, **DELETE_ERRORS},
                   description="Refused (400, with the reason) while the theme has items or "
                               "experts rated their expertise on it.")
    def delete(self, request, slug, code):
        structure.theme_delete(theme=self.get_theme(code), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def item_save(view: StudyView, request, item: Item | None) -> Item:
    """Check the body's shape, then save through the builder (which runs the study file's
    checker and refuses to change an item already asked)."""
    data = ItemInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    theme = view.study.themes.filter(code=data.validated_data["theme"]).first()
    if theme is None:
        raise ServiceError(_("Unknown theme."), field_errors={"theme": _("No such theme.")})
    return builder.item_save(study=view.study, theme=theme, data=data.item_data(),
                             actor=request.user, item=item)


class ItemWrite:
    """PUT and DELETE of /items/{code}/ (mixed into the read-only ItemDetail)."""

    @extend_schema(request=ItemInputSerializer, responses={200: ItemSerializer, **WRITE_ERRORS},
                   description="Change an item no round has asked yet (an asked item is reworded "
                               "when planning the next round). Problems are listed in "
                               "`errors.study_file`, located as in a study file.")
    def put(self, request, slug, code):
        item = item_save(self, request, one(self.study.items.select_related("theme"), code=code))
        return Response(ItemSerializer(item).data)

    @extend_schema(responses={204: None, **DELETE_ERRORS},
                   description="Refused (400) for an item that has been asked or has derived "
                               "items.")
    def delete(self, request, slug, code):
        builder.item_delete(item=one(self.study.items, code=code), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemHistory(StudyView):
    """Where the item comes from, newest first, back to round 1 (its provenance)."""

    serializer_class = ItemHistorySerializer
    pagination_class = None
    queryset = Item.objects.none()

    @extend_schema(responses={200: ItemHistorySerializer(many=True), **READ_ERRORS})
    def get(self, request, slug, code):
        history = item_history(one(self.study.items, code=code))
        return Response(ItemHistorySerializer(history, many=True).data)
