from django.urls import path

from workspace.views import dashboard, panel, rounds, studies, team

app_name = "workspace"
S = "<slug:slug>/"

urlpatterns = [
    path("", studies.home, name="home"),
    path("import/", studies.import_new, name="import_new"),
    path(S, dashboard.dashboard, name="dashboard"),
    path(S + "live/", dashboard.dashboard_live, name="live"),
    path(S + "rules/", dashboard.rules_page, name="rules"),
    path(S + "audit/", dashboard.audit_log, name="audit"),
    path(S + "build/", studies.builder_page, name="builder"),
    path(S + "snapshot/", dashboard.snapshot_take, name="snapshot"),
    path(S + "team/", team.team_page, name="team"),
    path(S + "team/<int:pk>/remove/", team.member_remove, name="member_remove"),
    path(S + "build/study/", studies.study_edit, name="study_edit"),
    path(S + "build/min-cell/", studies.study_min_cell, name="study_min_cell"),
    path(S + "build/group/", studies.group_save, name="group_save"),
    path(S + "build/group/<str:code>/rename/", studies.group_rename, name="group_rename"),
    path(S + "build/group/<str:code>/delete/", studies.group_delete, name="group_delete"),
    path(S + "build/theme/", studies.theme_save, name="theme_save"),
    path(S + "build/theme/<str:code>/rename/", studies.theme_rename, name="theme_rename"),
    path(S + "build/theme/<str:code>/delete/", studies.theme_delete, name="theme_delete"),
    path(S + "build/item/", studies.item_edit, name="item_new"),
    path(S + "build/item/<str:code>/", studies.item_edit, name="item_edit"),
    path(S + "build/item/<str:code>/delete/", studies.item_delete, name="item_delete"),
    path(S + "build/item/<str:code>/history/", rounds.item_lineage, name="item_lineage"),
    path(S + "export/<str:fmt>/", studies.export_file, name="export"),
    path(S + "import/<str:fmt>/", studies.import_into, name="import_into"),
    path(S + "panel/", panel.panel_page, name="panel"),
    path(S + "panel/upload/", panel.panel_upload, name="panel_upload"),
    path(S + "panel/invite/", panel.invite, name="invite"),
    path(S + "panel/remind/", panel.remind, name="remind"),
    path(S + "panel/message/<int:pk>/retry/", panel.retry, name="retry"),
    path(S + "panel/<int:pk>/withdraw/", panel.withdraw, name="withdraw"),
    path(S + "panel/<int:pk>/erase/", panel.erase, name="erase"),
    path(S + "panel/<int:pk>/revoke/", panel.revoke, name="revoke"),
    path(S + "panel/links/", panel.link_lifetime, name="link_lifetime"),
    path(S + "rounds/", rounds.rounds_page, name="rounds"),
    path(S + "rounds/first/", rounds.round_first, name="round_first"),
    path(S + "rounds/plan/", rounds.round_plan, name="round_plan"),
    path(S + "rounds/<int:number>/", rounds.round_draft, name="round_draft"),
    path(S + "rounds/<int:number>/preview/", studies.preview, name="preview"),
    path(S + "rounds/<int:number>/<str:action>/", rounds.round_action, name="round_action"),
    path(S + "rounds/<int:number>/items/<str:action>/", rounds.draft_edit, name="draft_edit"),
]
