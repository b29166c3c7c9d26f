"""Reading an untrusted study file: YAML with its aliases' expansion bounded, and a bounded
size and shape.

A study file comes from anyone with a staff account (the workspace's import, the API, the
`load_study` command), so it is read in two passes. The first walks libyaml's event stream,
which costs little and builds nothing. It counts every value an alias would repeat, so a 12 KB
"billion laughs" file, which expands into gigabytes, is refused at its first alias that goes
over MAX_VALUES; anchors within that bound stay allowed (PyYAML's own dump writes them for
repeated texts). It also refuses nesting deeper than any study file needs, too many themes,
items, groups or options, and over-long texts, and stops at the first count over its limit.
Only a file within every limit is then built into Python objects; the counts are checked
again on them (an alias may stand for a whole list), still without walking every item.
"""

from typing import Any

import yaml
from django.utils.translation import gettext as _

from surveys.errors import StudyFileError

# The documented limits (docs/organizers.md, "Limits of a study file").
MAX_BYTES = 2_000_000
MAX_THEMES = 100
MAX_ITEMS = 1_000  # in the whole study
MAX_GROUPS = 50
MAX_OPTIONS = 20  # per ranking item
MAX_TEXT = 5_000  # characters per text (item, option, theme, group, title)
MAX_DESCRIPTION = 20_000  # characters of the study's description, per language
MAX_PROBLEMS = 50  # problems listed; the rest are counted
MAX_DEPTH = 12  # a study file nests 9 levels deep at most (an option's text)
MAX_VALUES = 300_000  # YAML nodes, aliases expanded: 1,000 items of 20 options need ~210,000

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when it is installed


def problems_bounded(problems: list[str]) -> list[str]:
    """The first MAX_PROBLEMS problems, and a last line counting the others."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], _("… and %(n)s more problems") % {"n": rest}]


def _line(event) -> str:
    mark = event.start_mark
    return _("line %(line)s, column %(column)s") % {"line": mark.line + 1,
                                                     "column": mark.column + 1}


class _Scan:
    """The first pass: one walk over the events, keeping the path of keys and counts."""

    def __init__(self) -> None:
        # Per open container: [is_mapping, expecting_key, key_or_index, anchor, values_before]
        self.stack: list[list] = []
        self.anchored: dict[str, int] = {}  # anchor -> the number of values it stands for
        self.themes = self.items = self.groups = self.values = 0
        self.options: list[int] = []  # per open `options` list
        self.problems: list[str] = []

    def _path(self) -> tuple:
        return tuple(entry[2] for entry in self.stack)

    def _node(self, event) -> str | None:
        """Count a node about to start (an alias as every value it repeats); return a problem
        that stops the scan, if any."""
        self.values += self.anchored.get(event.anchor, 1) if isinstance(
            event, yaml.AliasEvent) else 1
        if self.values > MAX_VALUES:
            return f"{_line(event)}: " + _(
                "more than %(n)s values, aliases (*) expanded; a study file holds at most "
                "%(items)s items") % {"n": f"{MAX_VALUES:,}", "items": f"{MAX_ITEMS:,}"}
        if self.stack and self.stack[-1][0] and self.stack[-1][1]:
            return None  # a mapping key
        path = self._path()
        if len(path) == 2 and path[0] == "themes":
            self.themes += 1
            if self.themes > MAX_THEMES:
                return "themes: " + _("more than %(n)s themes (the limit)") % {"n": MAX_THEMES}
        elif len(path) == 2 and path[0] == "stakeholder_groups":
            self.groups += 1
            if self.groups > MAX_GROUPS:
                return "stakeholder_groups: " + _("more than %(n)s groups (the limit)") % {
                    "n": MAX_GROUPS}
        elif len(path) == 4 and path[0] == "themes" and path[2] == "items":
            self.items += 1
            if self.items > MAX_ITEMS:
                return "themes: " + _("more than %(n)s items in the study (the limit)") % {
                    "n": f"{MAX_ITEMS:,}"}
        elif len(path) == 6 and path[0] == "themes" and path[4] == "options" and self.options:
            self.options[-1] += 1
            if self.options[-1] > MAX_OPTIONS:
                where = f"themes[{path[1]}].items[{path[3]}].options"
                return f"{where}: " + _("more than %(n)s options (the limit)") % {
                    "n": MAX_OPTIONS}
        return None

    def _done(self) -> None:
        """A node (scalar or container) ended: its parent moves to the next key or index."""
        if not self.stack:
            return
        top = self.stack[-1]
        if top[0] and top[1]:  # a key that is itself a list or mapping (no study file has one)
            top[1], top[2] = False, None
        elif top[0]:
            top[1] = True
        else:
            top[2] += 1

    def _alias(self) -> None:
        top = self.stack[-1] if self.stack else None
        if top is not None and top[0] and top[1]:
            top[1] = False  # an aliased key: its name is not one the counts look for
            return
        self._done()

    def _scalar(self, event) -> None:
        if event.anchor is not None:
            self.anchored[event.anchor] = 1
        top = self.stack[-1] if self.stack else None
        if top is not None and top[0] and top[1]:
            top[1], top[2] = False, event.value
            return
        path = self._path()
        limit = MAX_DESCRIPTION if path[:1] == ("description",) else MAX_TEXT
        if len(event.value) > limit:
            self.problems.append(f"{_line(event)}: " + _(
                "a text of %(length)s characters; the limit is %(n)s") % {
                "length": f"{len(event.value):,}", "n": f"{limit:,}"})
        self._done()

    def run(self, text: str) -> list[str]:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.NodeEvent):
                stop = self._node(event)
                if stop:
                    return [stop]
            if isinstance(event, yaml.AliasEvent):
                self._alias()
            elif isinstance(event, yaml.ScalarEvent):
                self._scalar(event)
            elif isinstance(event, yaml.CollectionStartEvent):
                is_mapping = isinstance(event, yaml.MappingStartEvent)
                if not is_mapping and self._path()[-1:] == ("options",):
                    self.options.append(0)
                self.stack.append([is_mapping, True, None, event.anchor, self.values - 1]
                                  if is_mapping else [False, False, 0, event.anchor,
                                                      self.values - 1])
                if len(self.stack) > MAX_DEPTH:
                    return [f"{_line(event)}: " + _("nested deeper than a study file can be")]
            elif isinstance(event, yaml.CollectionEndEvent):
                closed = self.stack.pop()
                if closed[3] is not None:
                    self.anchored[closed[3]] = self.values - closed[4]
                if isinstance(event, yaml.SequenceEndEvent) and self._path()[-1:] == (
                        "options",):
                    self.options.pop()
                self._done()
        return problems_bounded(self.problems)


def study_yaml_load(text: str) -> Any:
    """The parsed study file; a file with anchors, aliases or over any limit raises
    StudyFileError (at most MAX_PROBLEMS problems listed) before anything big is built."""
    try:
        problems = _Scan().run(text)
        if problems:
            raise StudyFileError(problems)
        return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is the safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (_("line %(line)s, column %(column)s") % {"line": mark.line + 1,
                                                          "column": mark.column + 1}
                 if mark else "(file)")
        raise StudyFileError([f"{where}: " + _("not valid YAML (%(problem)s)") % {
            "problem": getattr(exc, "problem", None) or exc}]) from None


def study_size_problems(data: dict) -> list[str]:
    """Counts over their limits in a parsed study file (as an API client sends it), found
    without walking every item, so a huge file costs little to refuse."""
    problems = []
    themes = data.get("themes") if isinstance(data.get("themes"), list) else []
    groups = data.get("stakeholder_groups")
    if len(themes) > MAX_THEMES:
        problems.append("themes: " + _("more than %(n)s themes (the limit)") % {"n": MAX_THEMES})
    if isinstance(groups, list) and len(groups) > MAX_GROUPS:
        problems.append("stakeholder_groups: " + _("more than %(n)s groups (the limit)") % {
            "n": MAX_GROUPS})
    items = [(t, i, item) for t, theme in enumerate(themes[:MAX_THEMES]) if isinstance(theme, dict)
             and isinstance(theme.get("items"), list) for i, item in enumerate(theme["items"])]
    if len(items) > MAX_ITEMS:
        problems.append("themes: " + _("more than %(n)s items in the study (the limit)") % {
            "n": f"{MAX_ITEMS:,}"})
        return problems
    for t, i, item in items:
        options = item.get("options") if isinstance(item, dict) else None
        if isinstance(options, list) and len(options) > MAX_OPTIONS:
            problems.append(f"themes[{t}].items[{i}].options: " + _(
                "more than %(n)s options (the limit)") % {"n": MAX_OPTIONS})
    return problems_bounded(problems)
