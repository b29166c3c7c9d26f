"""Forms of the workspace: they check the shape of the input; services check the meaning."""

from django import forms
from django.utils.translation import gettext_lazy as _

from surveys.models import Item, StudyMember
from surveys.services.studies import DIMENSIONS, MAX_DECIMALS
from surveys.values import DIMENSION_LABELS
from workspace.models import ConsensusRule
from workspace.services.builder import options_read

WHEN = {"input_formats": ["%Y-%m-%dT%H:%M"],
        "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}


class StudyForm(forms.Form):
    slug = forms.SlugField(label=_("Address (slug)"), max_length=50,
                           help_text=_("Lower-case letters, digits and dashes, e.g. energy-2030."))
    title_en = forms.CharField(label=_("Title in English"), max_length=300)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=300)


class GroupForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20, help_text=_("Upper-case, e.g. RU."))
    name_en = forms.CharField(label=_("Name in English"), max_length=100)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=100)


class ThemeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=50)
    title_en = forms.CharField(label=_("Title in English"), max_length=300)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=300)


class StudyEditForm(forms.Form):
    title_en = forms.CharField(label=_("Title in English"), max_length=300)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=300)
    description_en = forms.CharField(label=_("Description in English"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 3}))
    description_ru = forms.CharField(label=_("Description in Russian"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 3}))


class MinCellForm(forms.Form):
    min_cell = forms.IntegerField(
        label=_("Smallest number of answers shown to experts"), min_value=1, max_value=50,
        help_text=_("Experts see the panel's figures and arguments on an item once at least this "
                    "many experts have answered it (default 3); Real-Time figures change after "
                    "this many new submissions. Reports for staff always show every figure."))


class GroupNamesForm(forms.Form):
    name_en = forms.CharField(label=_("Name in English"), max_length=100)
    name_ru = forms.CharField(label=_("Name in Russian"), max_length=100)


class ThemeTitlesForm(forms.Form):
    title_en = forms.CharField(label=_("Title in English"), max_length=300)
    title_ru = forms.CharField(label=_("Title in Russian"), max_length=300)


class MemberForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=StudyMember.Role.choices)


# Each kind's own fields, in the order the item form shows them; the other kinds need none.
KIND_FIELDS = {
    Item.Kind.DIMENSIONS: ("dimensions",),
    Item.Kind.YEAR: ("min", "max", "unit_en", "unit_ru"),
    Item.Kind.NUMERIC: ("min", "max", "decimals", "unit_en", "unit_ru"),
    Item.Kind.RANKING: ("options",),
}


class ItemForm(forms.Form):
    theme = forms.ChoiceField(label=_("Theme"))
    code = forms.CharField(label=_("Code"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind"), choices=Item.Kind.choices)
    text_en = forms.CharField(label=_("Text in English"), widget=forms.Textarea(attrs={"rows": 4}))
    text_ru = forms.CharField(label=_("Text in Russian"), widget=forms.Textarea(attrs={"rows": 4}))
    source_paragraph = forms.IntegerField(label=_("Source paragraph"), required=False, min_value=0)
    source_anchor = forms.CharField(label=_("Source passage (first words)"), required=False,
                                    max_length=300)
    dimensions = forms.MultipleChoiceField(label=_("Dimensions"), required=False,
                                           choices=[(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
                                           widget=forms.CheckboxSelectMultiple)
    min = forms.FloatField(label=_("Minimum"), required=False)
    max = forms.FloatField(label=_("Maximum"), required=False)
    decimals = forms.IntegerField(
        label=_("Decimal places"), required=False, min_value=0, max_value=MAX_DECIMALS,
        help_text=_("0: whole numbers only; 1: answers such as 12.5."))
    unit_en = forms.CharField(label=_("Unit in English"), required=False, max_length=50)
    unit_ru = forms.CharField(label=_("Unit in Russian"), required=False, max_length=50)
    options = forms.CharField(label=_("Options, one per line: code | English | Russian"),
                              required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, themes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [(t.code, f"{t.code}: {t.title}") for t in themes]

    def chosen_kind(self) -> str:
        """The kind whose fields the form shows: the posted one, else the item's, else the first."""
        kinds = Item.Kind.values
        kind = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        return kind if kind in kinds else kinds[0]

    def kind_sections(self) -> list[dict]:
        """The kind-specific fieldsets, each with the kinds it belongs to and whether it is
        hidden for the chosen kind (the page's script switches them as the kind changes)."""
        chosen = self.chosen_kind()
        sections = [
            (_("Policy-Delphi dimensions"), (Item.Kind.DIMENSIONS,), ("dimensions",)),
            (_("Range and unit"), (Item.Kind.YEAR, Item.Kind.NUMERIC),
             ("min", "max", "decimals", "unit_en", "unit_ru")),
            (_("Options to rank"), (Item.Kind.RANKING,), ("options",)),
        ]
        out = []
        for legend, kinds, names in sections:
            fields = [{"field": self[name], "kinds": " ".join(k for k in kinds
                                                                if name in KIND_FIELDS[k]),
                       "hidden": name not in KIND_FIELDS.get(chosen, ())} for name in names]
            out.append({"legend": legend, "kinds": " ".join(kinds), "fields": fields,
                        "hidden": chosen not in kinds})
        return out

    plain_kinds = " ".join(k for k in Item.Kind.values if k not in KIND_FIELDS)

    def plain_kind_chosen(self) -> bool:
        """The chosen kind needs no fields of its own (agreement, probability, open text)."""
        return self.chosen_kind() not in KIND_FIELDS

    def clean_options(self):
        options, bad = options_read(self.cleaned_data["options"])
        if bad is not None and self.cleaned_data.get("kind", self.data.get("kind")) == "ranking":
            raise forms.ValidationError(_(
                "Line %(n)s: write each option as code | English | Russian, e.g. "
                "a | Option A | Вариант А.") % {"n": bad})
        return options

    def item_data(self) -> dict:
        """The item in the study file's shape, for the study file's checker: only the chosen
        kind's own fields count (a field filled in before the kind changed is ignored)."""
        d = self.cleaned_data
        data = {"code": d["code"], "kind": d["kind"], "text": {"en": d["text_en"], "ru": d["text_ru"]}}
        if d["source_paragraph"] is not None or d["source_anchor"]:
            data["source"] = {"anchor": d["source_anchor"]}
            if d["source_paragraph"] is not None:
                data["source"]["paragraph"] = d["source_paragraph"]
        own = KIND_FIELDS.get(d["kind"], ())
        if "dimensions" in own:
            data["dimensions"] = d["dimensions"]
        if "min" in own:
            data["min"], data["max"] = whole_number(d["min"]), whole_number(d["max"])
        if "decimals" in own and d["decimals"]:
            data["decimals"] = d["decimals"]
        if "unit_en" in own and (d["unit_en"] or d["unit_ru"]):
            data["unit"] = {"en": d["unit_en"], "ru": d["unit_ru"]}
        if "options" in own:
            data["options"] = d["options"]
        return data


def whole_number(value: float | None) -> float | int | None:
    """2011.0 as 2011 (a year's bound reads as a year), 12.5 as it is."""
    return int(value) if value is not None and value.is_integer() else value


class RuleForm(forms.Form):
    definition = forms.ChoiceField(label=_("Consensus definition"),
                                   choices=ConsensusRule.Definition.choices, widget=forms.RadioSelect)
    direction = forms.ChoiceField(label=_("Consensus on"), choices=ConsensusRule.Direction.choices,
                                  widget=forms.RadioSelect)
    agree_pct = forms.FloatField(label=_("Threshold X (percent in the top or bottom boxes, at least)"))
    iqr_max = forms.FloatField(label=_("IQR threshold Y (at most)"))
    stability = forms.ChoiceField(label=_("Stability definition"),
                                  choices=ConsensusRule.Stability.choices, widget=forms.RadioSelect)
    stability_p = forms.FloatField(label=_("Stable when Wilcoxon p is above"))
    stability_pct = forms.FloatField(label=_("Stable when the distribution changes by less than (%)"))
    stopping = forms.ChoiceField(label=_("Stopping rule"), choices=ConsensusRule.Stopping.choices,
                                 widget=forms.RadioSelect)
    max_rounds = forms.IntegerField(label=_("Maximum number of rounds"))
    aims_en = forms.CharField(label=_("Aims (English)"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    aims_ru = forms.CharField(label=_("Aims (Russian)"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    panel_criteria_en = forms.CharField(
        label=_("Panel: selection criteria and expertise (English)"), required=False,
        max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    panel_criteria_ru = forms.CharField(
        label=_("Panel: selection criteria and expertise (Russian)"), required=False,
        max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    rounds_rationale_en = forms.CharField(
        label=_("Why this number of rounds (English)"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}))
    rounds_rationale_ru = forms.CharField(
        label=_("Why this number of rounds (Russian)"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reason for the change (required once round 1 has opened)"),
                             required=False, widget=forms.Textarea(attrs={"rows": 3}))


    def text_fields(self) -> list:
        """The protocol's texts, each in English then Russian (bound fields, in order)."""
        return [self[f"{field}_{lang}"] for field in ConsensusRule.TEXTS for lang in ("en", "ru")]

    def registered(self) -> dict:
        """The cleaned fields as the rules service takes them: each text as {language: text}."""
        data = dict(self.cleaned_data)
        for field in ConsensusRule.TEXTS:
            data[field] = {lang: data.pop(f"{field}_{lang}") for lang in ("en", "ru")}
        return data

    @staticmethod
    def initial_from(values: dict) -> dict:
        """The form's initial values from the registered ones (texts split per language)."""
        initial = {k: v for k, v in values.items() if k not in ConsensusRule.TEXTS}
        for field in ConsensusRule.TEXTS:
            for lang in ("en", "ru"):
                initial[f"{field}_{lang}"] = (values.get(field) or {}).get(lang, "")
        return initial


class ExpertForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email"))
    group = forms.ChoiceField(label=_("Stakeholder group"))
    language = forms.ChoiceField(label=_("Language"), choices=[("en", "English"), ("ru", "Русский")])
    invite = forms.BooleanField(label=_("Send the invitation now"), required=False)

    def __init__(self, *args, groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [(g.code, g.name) for g in groups]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))


class RoundStartForm(forms.Form):
    opens_at = forms.DateTimeField(label=_("Open at (UTC; empty: now)"), required=False, **WHEN)
    closes_at = forms.DateTimeField(label=_("Close at (UTC; empty: by hand)"), required=False, **WHEN)


class ExtendForm(forms.Form):
    closes_at = forms.DateTimeField(label=_("New closing time (UTC)"), **WHEN)


class ReopenForm(forms.Form):
    closes_at = forms.DateTimeField(label=_("Close at (UTC; empty: by hand)"), required=False, **WHEN)


class ReminderScheduleForm(forms.Form):
    hours = forms.CharField(label=_("Hours before closing, separated by commas"), initial="72, 24")

    def clean_hours(self):
        try:
            return [int(h) for h in self.cleaned_data["hours"].replace(" ", "").split(",") if h]
        except ValueError:
            raise forms.ValidationError(_("Enter whole numbers such as 72, 24.")) from None


class RewordForm(forms.Form):
    code = forms.CharField(label=_("New item code"), max_length=50)
    text_en = forms.CharField(label=_("Text in English"), widget=forms.Textarea(attrs={"rows": 3}))
    text_ru = forms.CharField(label=_("Text in Russian"), widget=forms.Textarea(attrs={"rows": 3}))


class CollectorForm(forms.Form):
    """A survey's open link (surveys.services.collectors checks the meaning)."""

    code = forms.CharField(label=_("Code"), max_length=50,
                           help_text=_("Lower-case letters, digits and dashes, e.g. ru-panel."))
    group = forms.ChoiceField(label=_("Stakeholder group"))
    country = forms.CharField(label=_("Country or other label"), max_length=100, required=False)
    # Ranges are the service's to check (surveys.services.collectors): one message for the
    # page, the API and the study file.
    quota = forms.IntegerField(label=_("Quota (completions; empty: none)"), required=False)
    opens_at = forms.DateTimeField(label=_("Opens at (UTC; empty: with the round)"),
                                   required=False, **WHEN)
    closes_at = forms.DateTimeField(label=_("Closes at (UTC; empty: with the round)"),
                                    required=False, **WHEN)
    id_param = forms.CharField(label=_("Parameter of the external id"), max_length=30,
                               initial="pid", required=False,
                               help_text=_("The panel provider's respondent id, e.g. ?pid=…"))
    complete_redirect = forms.CharField(label=_("Redirect on completion"), max_length=500,
                                        required=False)
    screenout_redirect = forms.CharField(label=_("Redirect on screen-out or full quota"),
                                         max_length=500, required=False)
    speeder_seconds = forms.IntegerField(
        label=_("Flag completions faster than (seconds; 0: no flag)"), required=False, initial=0)

    def __init__(self, *args, groups: list[tuple[str, str]], editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = groups
        if editing:  # the code names the link in exports and the audit log: it stays
            self.fields["code"].disabled = True
