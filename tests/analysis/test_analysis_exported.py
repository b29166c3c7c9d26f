"""analysis.exported: the answers and the registered rules read back from a study's export."""

import json

import pandas as pd
import pytest
from openpyxl import Workbook

from analysis.exported import (
    DEFAULT_RULES,
    consensus_rule,
    read_answers,
    registered_rules,
    rules_or_default,
    stability_rule,
)
from workspace.models import ConsensusRule

RULES = {"definition": "agreement", "direction": "disagree", "agree_pct": 80.0, "iqr_max": 1.0,
         "stability": "distribution", "stability_p": 0.05, "stability_pct": 10.0}


def test_an_archive_gives_its_answers_and_its_rules(tmp_path):
    path = tmp_path / "study.json"
    answers = [{"expert": "P-1", "group": "RU", "round": 1, "item": "a", "dimension": "",
                "kind": "agreement", "value": None, "no_opinion": True}]
    path.write_text(json.dumps({"study": {"consensus": RULES}, "answers": answers}))
    frame = read_answers(path)
    assert (len(frame), frame["value"].isna().all(), frame["group"].iloc[0]) == (1, True, "RU")
    assert registered_rules(path) == RULES
    assert rules_or_default(path) == (RULES, "registered rule read from study.json")


def test_a_study_file_and_an_xlsx_rules_sheet_carry_rules_too(tmp_path):
    study_file = tmp_path / "definition.json"
    study_file.write_text(json.dumps({"version": 1, "consensus": {"agree_pct": 70}}))
    assert registered_rules(study_file) == {"agree_pct": 70}
    book = Workbook()
    sheet = book.create_sheet("Rules")
    sheet.append(["field", "value"])
    for field, value in RULES.items():
        sheet.append([field, value])
    book.save(tmp_path / "export.xlsx")
    assert registered_rules(tmp_path / "export.xlsx") == RULES


def test_without_a_rule_the_stated_default_is_used(tmp_path):
    path = tmp_path / "long.csv"
    pd.DataFrame({"expert": ["e"], "round": [1], "item": ["a"], "value": [3]}).to_csv(path, index=False)
    assert registered_rules(path) is None
    rules, source = rules_or_default("", path)
    assert rules == DEFAULT_RULES and source.startswith("no registered rule in the export")


@pytest.mark.parametrize("definition", ["agreement", "iqr", "combined", "rand_ucla"])
def test_the_platform_and_the_notebooks_build_the_same_rule(definition):
    rule = ConsensusRule(definition=definition, direction="agree", agree_pct=70.0, iqr_max=1.5,
                         stability="distribution", stability_pct=12.0)
    values = rule.registered_values()
    assert rule.as_dict() == {**consensus_rule(values), "definition": definition,
                              "agree_pct": 70.0, "iqr_max": 1.5}
    assert stability_rule(values) == {"kind": "distribution", "change_below_pct": 12.0}
