"""The benchmark's small version (1,000 experts x 20 items) keeps bench/aggregate.py working.

Timings are not asserted (they belong in the README, measured at 10,000 experts); what is
checked is that every measurement runs, that the full task's quartiles equal the floor's
plain groupby, and the form of the closing line.
"""

import importlib.util
import re

import pytest

from tests.conftest import ROOT


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_aggregate", ROOT / "bench" / "aggregate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_the_small_benchmark_runs_and_the_task_agrees_with_the_floor():
    bench = load_bench()

    result = bench.run_size(1000, 20, sample=2, in_process=True)

    # 16 agreement items, one with two dimensions, one probability, one year and one numeric
    # item (the ranking item of the pattern becomes numeric in the last place): 21 per expert.
    assert result["answers"] == 21_000
    assert result["full"]["answers"] == 21_000 and result["full"]["rows"] > 20
    assert result["full"]["snapshot"] == pytest.approx(result["floor"]["quartiles"])
    assert result["naive"]["sampled_items"] == 2 and result["naive"]["seconds"] > 0
    line = bench.summary_line(result)
    assert re.fullmatch(r"full/floor: \d+\.\d\d  naive/full: \d+\.\d  peak MB: \d+  answers: 21000",
                        line), line


@pytest.mark.django_db
def test_the_survey_benchmark_runs_and_its_aggregation_agrees_with_the_floor():
    bench = load_bench()

    result = bench.run_survey(200, 20, in_process=True)

    # 21 answer rows per respondent for 20 items, as above
    assert result["answers"] == 200 * 21 and result["full"]["answers"] == 200 * 21
    assert result["full"]["snapshot"] == pytest.approx(result["floor"]["quartiles"])
    line = bench.survey_line(result)
    assert re.fullmatch(r"survey full/floor: \d+\.\d\d  peak MB: \d+  answers: 4200  "
                        r"respondents: 200", line), line
