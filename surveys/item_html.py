"""The questionnaire's items as HTML, built in Python rather than by template loops: a page
shows dozens of items, and rendering them with the template engine was most of its CPU.

What is the same for every expert (an item's texts, labels, scales, field names and links) is
built once per process, item version, language and script prefix; a request only fills in the
expert's own answers, errors and feedback. Every text is escaped here; translated messages are
inserted as the template's translate tags inserted them.
"""

import json
from dataclasses import dataclass

from django.template.defaultfilters import truncatewords
from django.urls import get_script_prefix, reverse
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, gettext_noop, ngettext

from surveys.feedback_html import escape, feedback_html, feedback_messages, withheld_note
from surveys.models import Item
from surveys.values import DIMENSION_LABELS, never_value, scale_choices, value_label

# xgettext (makemessages) cannot read gettext() inside f-strings: these lines put the strings
# the f-strings below translate into the catalogs.
_IN_F_STRINGS = (gettext_noop("Your answer"), gettext_noop("place"), gettext_noop("Your rating"),
                 gettext_noop("Probability slider"), gettext_noop("In hindsight"),
                 gettext_noop("Your reasoning (optional, shared anonymously with the panel)"),
                 gettext_noop("Put the options in order, 1 = most preferred."),
                 gettext_noop("Drag them, or use the Up and Down buttons."))

MAX_STATICS = 4096


@dataclass(frozen=True)
class PartStatic:
    """One part's markup before its input(s), its choices (each unchosen and chosen), the
    probability slider's markup before its value, a year's "never" choice, and the opening
    of its feedback box."""

    head: str
    fb_open: str
    choices: tuple[tuple[int, str, str], ...] = ()
    slider: str = ""
    never: tuple[str, str] = ("", "")  # a year's "never" choice, unchecked and checked


@dataclass(frozen=True)
class ItemStatic:
    """An item's markup that is the same for every expert, in pieces around what is not."""

    head: str
    hx: str
    legend: tuple[str, str]  # around the item's number (or, in a staff preview, its code)
    parts: tuple[PartStatic, ...]
    todo: tuple[str, str]  # around the item's number
    field: str = ""
    noop: str = ""
    noop_checked: str = ""
    arguments: tuple[str, str] = ("", "")
    gated: str = ""
    why: str = ""


_statics: dict[tuple, ItemStatic] = {}


def item_statics_clear() -> None:
    _statics.clear()


def _static(item: Item, language: str, prefix: str | None = None) -> ItemStatic:
    """The item's markup that is the same for every expert; `prefix` is the URL prefix (read
    here unless given: a list of items reads it once)."""
    key = (item.pk, item.updated_at, language, prefix or get_script_prefix())
    static = _statics.get(key)
    if static is None:
        if len(_statics) >= MAX_STATICS:
            _statics.clear()
        static = _statics[key] = _build(item)
    return static


def _g(value: float | None) -> str:
    """A number without a needless ".0" and, unlike "%g", without rounding 123456.5 ("" for none)."""
    try:
        return "%.15g" % value  # noqa: UP031 - printf's g drops trailing zeros
    except TypeError:
        return ""


def _build(item: Item) -> ItemStatic:
    code = escape(item.code)
    keys = item.answer_keys()
    names = [f"a-{item.code}.{key}" if key else f"a-{item.code}" for key in keys]
    never = [f"a-{item.code}.never"] if item.kind == Item.Kind.YEAR and item.never else []
    field_names = ",".join([*(names if item.kind != Item.Kind.OPEN else []), *never,
                            f"a-{item.code}.none",
                            f"a-{item.code}.why", f"a-{item.code}.text", "version"])
    source = ""
    if item.source_paragraph:
        source = gettext("From the essay, paragraph %(p)s") % {"p": escape(item.source_paragraph)}
        source = f'<p class="source">{source}'
        if item.source_anchor:
            source += f": “{escape(item.source_anchor)}…”"
        source += "</p>"
    static = {
        "head": (f'" id="item-{code}" data-item="{code}"' +
                 (f' aria-describedby="help-{code}"' if item.help else "") + "\n  "),
        "hx": (f'hx-post="{escape(reverse("questionnaire_autosave"))}" hx-trigger="input '
               f'delay:1000ms, change delay:1000ms" hx-params="{escape(field_names)}" '
               'hx-target="find .save-state" hx-sync="#questionnaire:queue all"'),
        "legend": ('>\n  <legend><span class="code">',
                   f"</span> {_hindsight_badge(item)}{escape(item.text)}</legend>{_help(item)}"
                   f"\n  {source}{_resolution(item)}\n  "),
        "todo": (f'<li><a href="#item-{code}">',
                 f": {escape(truncatewords(item.text, 10))}</a></li>"),
    }
    parts = []
    if item.kind == Item.Kind.OPEN:
        static["field"] = (f'\n    <label for="f-{code}-text">{gettext("Your answer")}</label>\n'
                           f'    <textarea id="f-{code}-text" name="a-{code}.text" rows="4" '
                           'maxlength="5000">')
    for key, name in zip(keys, map(escape, names), strict=True):
        if item.kind == Item.Kind.OPEN:
            break
        fb_id = escape(f"fb-{item.code}-{key or '_'}")
        if item.kind == Item.Kind.RANKING:
            label = escape(item.option_text(key))
            parts.append(PartStatic(
                head=(f'\n        <div class="part" data-option="{escape(key)}" '
                      f'data-label="{label}">\n          <label for="f-{name}">{label}</label>\n'
                      f'          <select id="f-{name}" name="{name}">\n            <option '
                      f'value="">{gettext("place")} …</option>\n            '),
                choices=tuple((k, f'<option value="{k}">{k}</option>',
                               f'<option value="{k}" selected>{k}</option>')
                              for k in range(1, len(item.options) + 1)),
                fb_open=f'<div id="{fb_id}">'))
        elif item.kind in Item.RATED:
            label = str(DIMENSION_LABELS.get(key, key)) if item.kind == Item.Kind.DIMENSIONS else ""
            legend = (f"<legend>{escape(label)}</legend>" if label else
                      f'<legend class="sr-only">{gettext("Your rating")}</legend>')
            radio = ('<label><input type="radio" name="' + name + '" value="{}"{}> '
                     "<span>{}</span></label>")
            parts.append(PartStatic(
                head=(f'\n    <div class="part">\n      <fieldset class="scale-set">\n'
                      f'        {legend}\n        <div class="scale">'),
                choices=tuple((value, radio.format(value, "", escape(text)),
                               radio.format(value, " checked", escape(text)))
                              for value, text in scale_choices(key)),
                fb_open=f'<div id="{fb_id}">'))
        else:
            low, high = map(_g, item.bounds())
            if item.kind == Item.Kind.PROBABILITY:
                label = gettext("Probability, %% (0-100)").replace("%%", "%")
            elif item.kind == Item.Kind.YEAR:
                label = gettext("Year (%(low)s-%(high)s)") % {"low": low, "high": high}
            else:
                label = f"{escape(item.unit)} ({low}-{high})"
            step = item.step()
            never_box = ("", "")
            typed_max = high
            if never:  # the label is the organizer's text: no str.format() over it
                box = (f'\n      <label class="never"><input type="checkbox" name="'
                       f'{escape(never[0])}" value="1" data-never-for="f-{name}"')
                box_label = f"> {escape(item.never)}</label>"
                never_box = (box + box_label, box + " checked" + box_label)
                # The maximum is what "never" stores: the year box offers the years before it.
                typed_max = _g(item.max_value - 1)
                label = gettext("Year (%(low)s-%(high)s)") % {"low": low, "high": typed_max}
            parts.append(PartStatic(
                head=(f'\n    <div class="part">\n      <label for="f-{name}">{label}</label>\n'
                      f'      <input id="f-{name}" type="number" inputmode="decimal" '
                      f'name="{name}" min="{low}" max="{typed_max}" step="{step}" value="'),
                slider=(f'<input type="range" class="slider" min="0" max="100" step="1" hidden '
                        f'data-slider-for="f-{name}" aria-label="'
                        f'{gettext("Probability slider")}" value="')
                if item.kind == Item.Kind.PROBABILITY else "",
                never=never_box,
                fb_open=f'<div id="{fb_id}">'))
    if item.kind != Item.Kind.OPEN:
        noop = ('\n    <label class="noop"><input type="checkbox" name="a-' + code +
                '.none" value="1"{}> ' + gettext("No opinion / outside my expertise") + "</label>\n  ")
        url = escape(reverse("questionnaire_arguments", args=[item.code]))
        static |= {
            "noop": noop.format(""), "noop_checked": noop.format(" checked"),
            "arguments": (
                f'\n  <details class="rationales" hx-get="{url}" hx-trigger="toggle once" '
                'hx-target="find .arguments" hx-swap="innerHTML" hx-params="none"><summary>',
                f'</summary>\n    <div class="arguments"><a href="{url}">' +
                gettext("Read the panel's arguments") + "</a></div>\n  </details>\n  "),
            "gated": ('\n  <p class="muted gated">' + gettext(
                "The panel's answers from the previous round appear once you have answered this "
                "item.") + "</p>\n  "),
            "why": (f'\n  <label for="f-{code}-why">'
                    f'{gettext("Your reasoning (optional, shared anonymously with the panel)")}'
                    f'</label>\n  <textarea id="f-{code}-why" name="a-{code}.why" rows="2" '
                    'maxlength="5000">'),
        }
    if item.kind == Item.Kind.RANKING:
        help_id = f"rank-help-{code}"
        static["field"] = (
            f'\n    <div class="ranking" data-ranking>\n      <p class="muted" id="{help_id}">'
            f'{gettext("Put the options in order, 1 = most preferred.")} <span class="js-only">'
            f'{gettext("Drag them, or use the Up and Down buttons.")}</span></p>\n      '
            f'<ol class="rank-list js-only" aria-describedby="{help_id}"></ol>\n      '
            '<div class="rank-selects">\n      ')
    return ItemStatic(parts=tuple(parts), **static)


def _hindsight_badge(item: Item) -> str:
    """The "In hindsight" mark, its explanation read by screen readers and shown on hover."""
    if not item.hindsight:
        return ""
    why = escape(gettext("Judge a claim made in the source in the light of what has happened since."))
    return (f'<span class="badge hindsight" title="{why}">{escape(gettext("In hindsight"))}'
            f'<span class="sr-only">: {why}</span></span> ')


def _help(item: Item) -> str:
    """The item's help, right under the proposition."""
    if not item.help:
        return ""
    return f'\n  <p class="help" id="help-{escape(item.code)}">{escape(item.help)}</p>'


def _resolution(item: Item) -> str:
    """A forecast's resolution date and, when opened, its criteria."""
    if item.resolves_on is None:
        return ""
    when = gettext("Resolves on %(date)s") % {"date": date_format(item.resolves_on)}
    return (f'\n  <details class="resolution"><summary>{escape(when)}</summary>'
            f"<p>{escape(item.resolution)}</p></details>")


def todo_html(todos) -> SafeString:
    """The progress box's list of unanswered items (questionnaire.Todo): a link to each, with
    its number and its text's start."""
    language, prefix = get_language(), get_script_prefix()
    out = []
    for todo in todos:
        before, after = _static(todo.item, language, prefix).todo
        out += [before, escape(todo.number), after]
    return SafeString("".join(out))


def _error(message) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def _chosen(part: PartStatic, value: float | None) -> str:
    return "".join(chosen if value == k else plain for k, plain, chosen in part.choices)


def _feedback_box(view, part, static: PartStatic, language: str) -> str:
    inner = feedback_html(part.feedback, language) if view.has_feedback and part.feedback else ""
    return f"{static.fb_open}{inner}</div>"


def _ranking(view, static: ItemStatic, out: list[str], language: str) -> None:
    out.append(static.field)
    was = (view.previous or {}).get("values", {})
    for part, ps in zip(view.parts, static.parts, strict=True):
        head = ps.head
        if was.get(part.key) is not None:  # the script shows the options in this order first
            head = head.replace(" data-option=", f' data-previous="{_g(was[part.key])}" '
                                "data-option=", 1)
        out += [head, _chosen(ps, part.value), "\n          </select>\n          ",
                _error(part.error), "\n        </div>\n      "]
    out.append("\n      </div>\n      ")
    out += [_feedback_box(view, part, ps, language)
            for part, ps in zip(view.parts, static.parts, strict=True)]
    out.append("\n    </div>\n  ")


def _parts(view, static: ItemStatic, out: list[str], language: str) -> None:
    rated = view.item.kind in Item.RATED
    messages = feedback_messages(language)
    was = (view.previous or {}).get("values", {})
    for part, ps in zip(view.parts, static.parts, strict=True):
        out.append(ps.head)
        if rated:
            mark = was.get(part.key)
            tag = (f' <small class="was-tag">{escape(messages["was_tag"] % {"n": view.previous_round})}'
                   "</small></label>")
            out += ["\n".join(
                (chosen if part.value == k else plain).replace("</label>", tag) if mark == k
                else (chosen if part.value == k else plain) for k, plain, chosen in ps.choices),
                "</div>\n      </fieldset>\n      "]
        else:
            never = bool(ps.never[0]) and part.value is not None and \
                part.value == never_value(view.item)
            value = "" if part.value is None or never else _g(part.value)
            out += [value, '">\n      ']
            if ps.slider:
                out += _slider(ps, value, view, part.key, messages)
            if ps.never[0]:
                out.append(ps.never[1] if never else ps.never[0])
        out += ["\n      ", _error(part.error), "\n      ", _feedback_box(view, part, ps, language),
                "\n    </div>\n    "]
    out.append("\n  ")


def items_html(views, *, is_open: bool, codes: bool = False) -> SafeString:
    """Items of the questionnaire (ItemViews) as the page shows them; item codes only with
    `codes` (a staff preview): experts see each item's number."""
    language, prefix = get_language(), get_script_prefix()
    return SafeString("".join(item_html(view, is_open=is_open, language=language, prefix=prefix,
                                        codes=codes) for view in views))


def _slider(ps: PartStatic, value: str, view, key: str, messages: dict) -> list[str]:
    """The probability slider: without a value its thumb stays hidden and it says "not
    answered" (the script shows it); the previous round's answer is a marker on its track."""
    # Unset, it rests at 0 with its thumb hidden: no filled track that reads as an answer.
    out = ['<span class="slider-box">', ps.slider, value or "0",
           '">' if value else '" data-unset="1">']
    if not value:
        out.append(f'<span class="slider-empty muted" hidden>{escape(messages["empty"])}</span>')
    was = (view.previous or {}).get("values", {}).get(key)
    if was is not None:
        label = messages["was_mark"] % {"n": view.previous_round, "value": f"{was:g} %"}
        out.append(f'<span class="was-mark" data-at="{_g(was)}" hidden aria-hidden="true"></span>'
                   f'<span class="was-label muted" hidden>{escape(label)}</span>')
    out.append("</span>")
    return out


def previous_label(item: Item, previous: dict) -> str:
    """The expert's answer in the previous round as words."""
    if previous["no_opinion"]:
        return feedback_messages(get_language())["no_opinion"]
    if item.kind == Item.Kind.OPEN:
        return truncatewords(previous["text"], 25)
    values = previous["values"]
    if item.kind == Item.Kind.RANKING:
        order = sorted(values, key=values.get)
        return " · ".join(f"{values[k]:g}. {item.option_text(k)}" for k in order)
    if item.kind == Item.Kind.DIMENSIONS:
        return "; ".join(f"{DIMENSION_LABELS.get(k, k)}: {value_label(item, k, v)}"
                         for k, v in values.items())
    return value_label(item, "", values.get(""))


def _keep_fields(item: Item, previous: dict) -> dict[str, str]:
    """The form's fields as the previous answer fills them (the script puts them in)."""
    code = item.code
    if previous["no_opinion"]:
        return {f"a-{code}.none": "1"}
    if item.kind == Item.Kind.OPEN:
        return {f"a-{code}.text": previous["text"]}
    values = previous["values"]
    if "" in values and values[""] == never_value(item):
        return {f"a-{code}.never": "1"}
    return {(f"a-{code}.{k}" if k else f"a-{code}"): _g(v) for k, v in values.items()}


def _carry(view, messages: dict) -> str:
    """The choice to keep the previous round's answer: what it was and a button that saves
    it as this round's answer (a form post, or with the script, the item's autosave)."""
    n = view.previous_round
    fields = escape(json.dumps(_keep_fields(view.item, view.previous)))
    return (f'<div class="carry"><p class="carry-was">{escape(messages["was"] % {"n": n})} '
            f"<strong>{escape(previous_label(view.item, view.previous))}</strong></p>"
            f'<button type="submit" name="keep" value="{escape(view.item.code)}" class="keep" '
            f'data-keep="{fields}">{escape(messages["keep"] % {"n": n})}</button></div>\n  ')


def item_html(view, *, is_open: bool, language: str | None = None,
              prefix: str | None = None, codes: bool = False) -> SafeString:
    """One item of the questionnaire (an ItemView) as the page shows it."""
    language = language or get_language()
    static = _static(view.item, language, prefix)
    kind = view.item.kind
    number = f"{view.number} · {view.item.code}" if codes else view.number
    out = ['\n<fieldset class="item', " invalid" if view.error else "", static.head,
           static.hx if is_open else "", static.legend[0], escape(number), static.legend[1],
           _error(view.error), "\n  "]
    if view.previous is not None and is_open:
        out.append(_carry(view, feedback_messages(language)))
    if kind == Item.Kind.OPEN:
        out += [static.field, escape(view.text), "</textarea>\n  "]
    elif kind == Item.Kind.RANKING:
        _ranking(view, static, out, language)
    else:
        _parts(view, static, out, language)
    if kind != Item.Kind.OPEN:
        out.append(static.noop_checked if view.no_opinion else static.noop)
        if view.has_feedback and view.arguments:
            n = view.arguments
            summary = ngettext("%(n)s argument from the panel", "%(n)s arguments from the panel",
                               n) % {"n": n}
            out += [static.arguments[0], summary, static.arguments[1]]
        elif not view.has_feedback and view.parts[0].feedback:
            out.append(static.gated)
        if view.withheld:
            out.append(withheld_note(view.withheld, language))
        out += [static.why, escape(view.rationale), "</textarea>\n  "]
    out.append('\n  <p class="save-line"><span class="save-state" aria-live="polite"></span></p>\n'
               "</fieldset>\n")
    # Every text is escaped; translated messages go in as the translate tag put them.
    return SafeString("".join(out))
