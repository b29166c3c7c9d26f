"""/api/v1/ (the REST API), /api/schema/ and /api/docs/; included from config/urls.py."""

from django.urls import path, re_path

from api import errors
from api.views import docs, me, panel, results, rounds, studies, tokens

S = "v1/studies/<slug:slug>/"

urlpatterns = [
    path("schema/", docs.SchemaView.as_view(), name="api-schema"),
    path("docs/", docs.DocsView.as_view(), name="api-docs"),
    path("v1/studies/", studies.StudyList.as_view(), name="api-studies"),
    path(S, studies.StudyDetail.as_view(), name="api-study"),
    path(S + "themes/", studies.ThemeList.as_view(), name="api-themes"),
    path(S + "groups/", studies.GroupList.as_view(), name="api-groups"),
    path(S + "items/", studies.ItemList.as_view(), name="api-items"),
    path(S + "items/<str:code>/", studies.ItemDetail.as_view(), name="api-item"),
    path(S + "members/", studies.MemberList.as_view(), name="api-members"),
    path(S + "members/<int:pk>/", studies.MemberDetail.as_view(), name="api-member"),
    path(S + "rounds/", rounds.RoundList.as_view(), name="api-rounds"),
    path(S + "rounds/<int:number>/", rounds.RoundDetail.as_view(), name="api-round"),
    path(S + "rounds/<int:number>/open/", rounds.RoundOpen.as_view(), name="api-round-open"),
    path(S + "rounds/<int:number>/close/", rounds.RoundClose.as_view(), name="api-round-close"),
    path(S + "rounds/<int:number>/aggregates/", rounds.AggregateList.as_view(),
         name="api-aggregates"),
    path(S + "rounds/<int:number>/rates/", rounds.RateList.as_view(), name="api-rates"),
    path(S + "experts/", panel.ExpertList.as_view(), name="api-experts"),
    path(S + "experts/<int:pk>/", panel.ExpertDetail.as_view(), name="api-expert"),
    path(S + "experts/<int:pk>/invitation/", panel.ExpertInvitation.as_view(),
         name="api-expert-invitation"),
    path(S + "experts/<int:pk>/withdraw/", panel.ExpertWithdraw.as_view(),
         name="api-expert-withdraw"),
    path(S + "report/", results.Report.as_view(), name="api-report"),
    path(S + "exports/<str:fmt>/", results.Export.as_view(), name="api-export"),
    path("v1/me/", me.Me.as_view(), name="api-me"),
    path("v1/me/response/", me.MeResponse.as_view(), name="api-me-response"),
    path("v1/me/response/submit/", me.MeSubmit.as_view(), name="api-me-submit"),
    path("v1/me/response/revisions/", me.MeRevisions.as_view(), name="api-me-revisions"),
    path("v1/tokens/", tokens.TokenList.as_view(), name="api-tokens"),
    path("v1/tokens/<int:pk>/", tokens.TokenDetail.as_view(), name="api-token"),
    # Anything else under /api/ (a malformed id, a wrong path) is a JSON 404 as well.
    re_path(r"^", errors.not_found, name="api-not-found"),
]

account_urlpatterns = [
    path("tokens/", tokens.account_tokens, name="account_tokens"),
]
