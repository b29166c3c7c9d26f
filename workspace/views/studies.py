"""My studies, the study builder, import/export of the study file, and the preview."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from surveys.errors import ServiceError, StudyFileError
from surveys.models import Expert, Round, StudyMember
from surveys.questionnaire import questionnaire_context
from surveys.selectors import round_current, studies_for_user
from workspace import forms
from workspace.selectors import group_of, item_of, round_of, study_for_organizer, theme_of
from workspace.services import builder, structure, transfer
from workspace.services.builder import item_locked, options_format
from workspace.views._common import back, run

UPLOAD_LIMIT = transfer.MAX_BYTES


@login_required
def home(request):
    """The studies I belong to, with a new-study form and a study-file import."""
    rows = []
    for member in studies_for_user(request.user):
        current = round_current(member.study)
        rows.append({"member": member, "study": member.study, "round": current,
                     "writer": member.role in (StudyMember.Role.OWNER, StudyMember.Role.ORGANIZER)})
    form = forms.StudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        study = run(request, builder.study_create, actor=request.user, **form.cleaned_data)
        if study is not None:
            messages.success(request, _("The study is created; add its groups, themes and items."))
            return back("workspace:builder", study.slug)
    return render(request, "workspace/home.html", {"rows": rows, "form": form,
                                                   "upload": forms.UploadForm()})


def _read_upload(request) -> bytes | None:
    upload = request.FILES.get("file")
    if upload is None:
        content = request.POST.get("content", "")
        return content.encode() if content else None
    if upload.size > UPLOAD_LIMIT:
        return b"x" * (UPLOAD_LIMIT + 1)  # reported as too large by the checker
    return upload.read()


@login_required
def import_new(request):
    """Create a study from a study file: check, show every problem, apply only when clean."""
    if request.method != "POST":
        return back("workspace:home")
    content = _read_upload(request)
    if content is None:
        messages.error(request, _("Choose a file."))
        return back("workspace:home")
    report = transfer.study_yaml_check(content=content)
    if report.problems or request.POST.get("confirm") != "1":
        return render(request, "workspace/import_report.html", {
            "report": report, "content": content.decode("utf-8", "replace"), "kind": "yaml",
            "study": None}, status=400 if report.problems else 200)
    study = run(request, transfer.study_yaml_import, content=content, actor=request.user)
    if study is None:
        return back("workspace:home")
    messages.success(request, _("The study file is loaded."))
    return back("workspace:builder", study.slug)


@login_required
def builder_page(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    themes = list(study.themes.prefetch_related("items"))
    return render(request, "workspace/builder.html", {
        "study": study, "themes": themes, "groups": list(study.groups.all()),
        "study_form": forms.StudyEditForm(prefix="study", initial={
            f: getattr(study, f) for f in structure.STUDY_FIELDS}),
        "cell_form": forms.MinCellForm(prefix="cell", initial={"min_cell": study.min_cell}),
        "group_form": forms.GroupForm(), "theme_form": forms.ThemeForm(),
        "item_form": forms.ItemForm(themes=themes), "upload": forms.UploadForm(),
        "draft": study.rounds.filter(status=Round.Status.DRAFT).first()})


@require_POST
@login_required
def group_save(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    form = forms.GroupForm(request.POST)
    if form.is_valid():
        run(request, builder.group_save, study=study, actor=request.user, **form.cleaned_data)
    else:
        messages.error(request, _("The group needs a code and names in both languages."))
    return back("workspace:builder", slug, anchor="groups")


@require_POST
@login_required
def study_min_cell(request, slug):
    """How many answers experts' feedback waits for (the study's min_cell)."""
    study = study_for_organizer(user=request.user, slug=slug)
    form = forms.MinCellForm(request.POST, prefix="cell")
    if not form.is_valid():
        messages.error(request, _("Expected a whole number from %(low)s to %(high)s.")
                       % {"low": 1, "high": 50})
    elif run(request, structure.study_min_cell_set, study=study, actor=request.user,
             **form.cleaned_data) is not None:
        messages.success(request, _("The smallest number of answers shown to experts is saved."))
    return back("workspace:builder", slug, anchor="min-cell")


@require_POST
@login_required
def study_edit(request, slug):
    """The study's title and description, in English and Russian."""
    study = study_for_organizer(user=request.user, slug=slug)
    form = forms.StudyEditForm(request.POST, prefix="study")
    if not form.is_valid():
        messages.error(request, _("The study's title is needed in English and Russian."))
    elif run(request, structure.study_update, study=study, actor=request.user,
             **form.cleaned_data) is not None:
        messages.success(request, _("The study's title and description are saved."))
    return back("workspace:builder", slug, anchor="study")


@require_POST
@login_required
def group_rename(request, slug, code):
    study = study_for_organizer(user=request.user, slug=slug)
    group = group_of(study, code)
    form = forms.GroupNamesForm(request.POST, prefix="rename")
    if not form.is_valid():
        messages.error(request, _("Give the group's name in English and Russian."))
    elif run(request, structure.group_rename, group=group, actor=request.user,
             **form.cleaned_data) is not None:
        messages.success(request, _("The group %(code)s is renamed.") % {"code": code})
    return back("workspace:builder", slug, anchor="groups")


@require_POST
@login_required
def group_delete(request, slug, code):
    study = study_for_organizer(user=request.user, slug=slug)
    group = group_of(study, code)
    run(request, structure.group_delete, group=group, actor=request.user)
    if not study.groups.filter(pk=group.pk).exists():
        messages.success(request, _("The group %(code)s is deleted.") % {"code": code})
    return back("workspace:builder", slug, anchor="groups")


@require_POST
@login_required
def theme_rename(request, slug, code):
    study = study_for_organizer(user=request.user, slug=slug)
    theme = theme_of(study, code)
    form = forms.ThemeTitlesForm(request.POST, prefix="rename")
    if not form.is_valid():
        messages.error(request, _("The theme needs titles in both languages."))
    elif run(request, structure.theme_rename, theme=theme, actor=request.user,
             **form.cleaned_data) is not None:
        messages.success(request, _("The theme %(code)s is retitled.") % {"code": code})
    return back("workspace:builder", slug, anchor=f"theme-{code}")


@require_POST
@login_required
def theme_delete(request, slug, code):
    study = study_for_organizer(user=request.user, slug=slug)
    theme = theme_of(study, code)
    run(request, structure.theme_delete, theme=theme, actor=request.user)
    if not study.themes.filter(pk=theme.pk).exists():
        messages.success(request, _("The theme %(code)s is deleted.") % {"code": code})
    return back("workspace:builder", slug, anchor="themes")


@require_POST
@login_required
def theme_save(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    form = forms.ThemeForm(request.POST)
    if form.is_valid():
        run(request, builder.theme_save, study=study, actor=request.user, **form.cleaned_data)
    else:
        messages.error(request, _("The theme needs a code and titles in both languages."))
    return back("workspace:builder", slug, anchor="themes")


def _item_initial(item) -> dict:
    return {"theme": item.theme.code, "code": item.code, "kind": item.kind,
            "text_en": item.text_en, "text_ru": item.text_ru,
            "source_paragraph": item.source_paragraph, "source_anchor": item.source_anchor,
            "dimensions": item.dimensions, "min": forms.whole_number(item.min_value),
            "max": forms.whole_number(item.max_value),
            "decimals": item.decimals, "unit_en": item.unit_en, "unit_ru": item.unit_ru,
            "options": options_format(item.options)}


@login_required
def item_edit(request, slug, code=None):
    """Add an item, or change one no round has asked yet, with both languages side by side.

    The form shows the chosen kind's fields only: a script switches them as the kind changes;
    without it, "Show this kind's fields" posts the form back unsaved with the new kind's fields.
    """
    study = study_for_organizer(user=request.user, slug=slug)
    item = item_of(study, code) if code else None
    themes = list(study.themes.all())
    if request.method == "POST" and "show_kind" in request.POST:
        posted = {name: request.POST.getlist(name) if name == "dimensions" else request.POST.get(name)
                  for name in forms.ItemForm.base_fields}
        form = forms.ItemForm(themes=themes, initial=posted)
    else:
        form = forms.ItemForm(request.POST or None, themes=themes,
                              initial=_item_initial(item) if item else None)
    if request.method == "POST" and form.is_bound and form.is_valid():
        theme = next(t for t in themes if t.code == form.cleaned_data["theme"])
        try:
            # The form edits no frame or simulation key: an edit keeps the item's own.
            kept = {k: v for k, v in builder.item_data(item).items()
                    if k in builder.FILE_ONLY_KEYS} if item else {}
            saved = builder.item_save(study=study, theme=theme, data=form.item_data() | kept,
                                      actor=request.user, item=item)
        except StudyFileError as exc:
            for field, texts in builder.item_field_errors(exc.problems).items():
                for text in texts:
                    form.add_error(field, text)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Item %(code)s is saved.") % {"code": saved.code})
            return back("workspace:builder", slug, anchor=f"item-{saved.code}")
    failed = form.is_bound and bool(form.errors)
    return render(request, "workspace/item_form.html", {
        "study": study, "item": item, "form": form, "failed": failed,
        "note": builder.item_edit_note(study, item),
        "locked": item is not None and item_locked(item)}, status=400 if failed else 200)


@require_POST
@login_required
def item_delete(request, slug, code):
    study = study_for_organizer(user=request.user, slug=slug)
    item = item_of(study, code)
    if run(request, builder.item_delete, item=item, actor=request.user) is None:
        if not study.items.filter(pk=item.pk).exists():
            messages.success(request, _("Item %(code)s is deleted.") % {"code": code})
    return back("workspace:builder", slug, anchor="items")


@login_required
def export_file(request, slug, fmt):
    study = study_for_organizer(user=request.user, slug=slug)
    if fmt == "yaml":
        body, kind, name = transfer.study_export_yaml(study), "application/yaml", f"{slug}.yaml"
    elif fmt == "csv":
        body, kind, name = transfer.items_export_csv(study), "text/csv", f"{slug}-items.csv"
    else:
        raise Http404
    response = HttpResponse(body, content_type=f"{kind}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@login_required
def import_into(request, slug, fmt):
    """Update the study from a study file or an item list: report first, apply when confirmed."""
    study = study_for_organizer(user=request.user, slug=slug)
    if fmt not in ("yaml", "csv"):
        raise Http404
    content = _read_upload(request)
    if content is None:
        messages.error(request, _("Choose a file."))
        return back("workspace:builder", slug, anchor="import")
    check = transfer.study_yaml_check if fmt == "yaml" else transfer.items_csv_check
    report = check(content=content, study=study)
    if report.problems or request.POST.get("confirm") != "1":
        return render(request, "workspace/import_report.html", {
            "report": report, "content": content.decode("utf-8", "replace"), "kind": fmt,
            "study": study}, status=400 if report.problems else 200)
    apply = transfer.study_yaml_import if fmt == "yaml" else transfer.items_csv_import
    if run(request, apply, content=content, study=study, actor=request.user) is not None:
        messages.success(request, _("The file is applied."))
    return back("workspace:builder", slug)


@login_required
def preview(request, slug, number):
    """The round's questionnaire exactly as an expert sees it (nothing can be saved here)."""
    study = study_for_organizer(user=request.user, slug=slug)
    round_ = round_of(study, number)
    # An unsaved stand-in expert (pk 0 matches no row): no saved answers, the round's feedback.
    expert = Expert(pk=0, study=study, name="", email="", language=request.LANGUAGE_CODE)
    context = questionnaire_context(expert, round_)
    context |= {"expert": expert, "study": study, "is_open": True, "preview": True,
                "confirm": False, "levels": range(1, 6), "message": "",
                "store_key": "agora-preview"}
    return render(request, "workspace/preview.html", context)
