"""The three-way verdict (agree, disagree, none, or no verdict), worked out by hand."""

import pandas as pd
import pytest

from analysis.consensus import item_verdict, study_rule, verdicts
from analysis.descriptive import boxes, rated_summary

RULE = study_rule(agree_pct=75, iqr_max=1)  # direction "either"


def summary(*panels: list[float | None], scale_max: int = 5) -> pd.DataFrame:
    """One summary row per list of answers (None = no opinion), as item i0, i1, ..."""
    rows = [{"expert": f"E{k}", "round": 1, "item": f"i{n}", "value": v}
            for n, values in enumerate(panels) for k, v in enumerate(values)]
    out = rated_summary(pd.DataFrame(rows), scale_min=1, scale_max=scale_max)
    return out.assign(scale_min=1, scale_max=scale_max)


def test_the_boxes_of_each_scale():
    assert boxes(1, 5) == (4, 2) and boxes(1, 9) == (7, 3)
    assert boxes(0, 10) == pytest.approx((6, 4))  # the top and bottom 40 % of another range


def test_consensus_on_rejection():
    # 25 x "2", 2 x "1", 3 x "3" (n 30). Sorted: 1 1 2 (x25) 3 3 3. Bottom boxes (1-2): 27 of
    # 30 = 90 % >= 75 %. R type 7: Q1 at (30-1) x .25 = 7.25 -> 2, Q3 at 21.75 -> 2, IQR 0,
    # median 2 (in the bottom boxes): consensus, disagree.
    row = summary([2] * 25 + [1] * 2 + [3] * 3)
    assert (row.loc[0, "pct_disagree"], row.loc[0, "iqr"], row.loc[0, "median"]) == (90, 0, 2)
    assert list(verdicts(row, RULE)) == ["disagree"]
    # A rule that registers consensus on agreement only says there is none.
    assert list(verdicts(row, {**RULE, "direction": "agree"})) == ["none"]
    assert list(verdicts(row, {**RULE, "direction": "disagree"})) == ["disagree"]


def test_each_verdict_by_hand():
    rows = summary(
        # 20 x 5, 8 x 4, 2 x 3: top 28/30 = 93.3 %; sorted 3 3 4 (x8) 5 (x20): Q1 at 7.25 -> 4,
        # Q3 at 21.75 -> 5, IQR 1, median 5: agree.
        [5] * 20 + [4] * 8 + [3] * 2,
        # 10 x 1, 10 x 3, 10 x 5: 33.3 % on each side: none.
        [1] * 10 + [3] * 10 + [5] * 10,
        # 1 4 5 5: top 75 %, but Q1 at .75 -> 1 + .75 x 3 = 3.25, Q3 5, IQR 1.75 > 1: none.
        [1, 4, 5, 5],
        # Only "no opinion": n 0, no verdict.
        [None, None],
    )
    assert list(rows["iqr"].round(2))[:3] == [1, 4, 1.75]
    assert list(verdicts(rows, RULE)) == ["agree", "none", "none", None]
    # Agreement only (no IQR condition): the third item agrees (75 %, median 4.5).
    agreement = {"kind": "agree_pct", "min": 75, "direction": "either"}
    assert list(verdicts(rows, agreement))[:3] == ["agree", "none", "agree"]


def test_an_iqr_rule_takes_its_side_from_the_median():
    # 3 3 3 3: IQR 0 but the median is neither in the top nor in the bottom boxes: none.
    # 2 2 2 1: IQR .25, median 2: disagree. 4 4 5 5: IQR 1, median 4.5: agree.
    rows = summary([3, 3, 3, 3], [2, 2, 2, 1], [4, 4, 5, 5])
    assert list(verdicts(rows, {"kind": "iqr", "max": 1})) == ["none", "disagree", "agree"]


def test_rand_ucla_gives_no_verdict_on_five_points_and_uses_the_nine_point_boxes():
    five = summary([4, 4, 5, 5])
    assert list(verdicts(five, {"kind": "rand_ucla"})) == [None]
    # On 9 points: 8 8 9 9 7 -> P30 = 8 (at 1.2), P70 = 8.8 (at 2.8), IPR .8; IPRCP 8.4,
    # AI 3.4, IPRAS 2.35 + 5.1 = 7.45; DI .11 <= 1 and the median 8 lies in 7-9: agree.
    rows = summary([8, 8, 9, 9, 7], scale_max=9)
    from analysis.descriptive import rand_ucla

    frame = pd.DataFrame([{"expert": f"E{k}", "round": 1, "item": "i0", "value": v}
                          for k, v in enumerate([8, 8, 9, 9, 7])])
    rows = rows.merge(rand_ucla(frame).drop(columns="n"), on=["round", "item", "dimension"])
    assert rows.loc[0, "di"] == pytest.approx(0.8 / 7.45)
    assert list(verdicts(rows, {"kind": "rand_ucla"})) == ["agree"]


def test_an_items_verdict_is_the_one_its_dimensions_share():
    assert item_verdict(["agree", "agree"]) == "agree"
    assert item_verdict(["agree", "disagree"]) == "none"
    assert item_verdict(["disagree", None]) == "disagree"
    assert item_verdict([None, None]) is None


def test_a_rule_with_an_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        verdicts(summary([4, 5]), {**RULE, "direction": "both"})
