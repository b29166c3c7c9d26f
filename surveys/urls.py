from django.contrib.auth import views as auth_views
from django.urls import path

from surveys.views import expert, gap, reports, staff, survey
from throttle.tokens import token_rate_limited

urlpatterns = [
    path("", staff.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("studies/<slug:slug>/", staff.study_overview, name="study_overview"),
    path("studies/<slug:slug>/gap/", gap.study_gap, name="study_gap"),
    path("studies/<slug:slug>/export/<str:fmt>/", reports.export_download, name="study_export"),
    path("studies/<slug:slug>/reports/<int:number>/", reports.report_page, name="report_page"),
    path("studies/<slug:slug>/reports/<int:number>/download/<str:fmt>/", reports.report_download,
         name="report_download"),
    path("studies/<slug:slug>/reports/<int:number>/checklist/<str:fmt>/", reports.report_checklist,
         name="report_checklist"),
    # Wrong tokens are counted per client: too many get 429 (throttle.tokens).
    path("e/<str:token>/", token_rate_limited(expert.expert_entry), name="expert_entry"),
    # A survey's open links (collectors): wrong tokens are counted as above.
    path("s/<str:token>/", token_rate_limited(survey.survey_entry), name="survey_entry"),
    path("s/<str:token>/consent/", token_rate_limited(survey.survey_consent),
         name="survey_consent"),
    path("s/<str:token>/screening/", token_rate_limited(survey.survey_screening),
         name="survey_screening"),
    path("s/<str:token>/page/<int:number>/", token_rate_limited(survey.survey_page_view),
         name="survey_page"),
    path("q/", expert.questionnaire_page, name="questionnaire"),
    path("q/consent/", survey.questionnaire_consent, name="questionnaire_consent"),
    path("q/autosave/", expert.questionnaire_autosave, name="questionnaire_autosave"),
    path("q/arguments/<str:code>/", expert.questionnaire_arguments, name="questionnaire_arguments"),
    path("q/language/", expert.expert_language, name="expert_language"),
]
