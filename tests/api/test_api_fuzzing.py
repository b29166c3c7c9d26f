"""schemathesis against the live schema on 127.0.0.1: at least 500 generated requests, as the
study's owner and as an expert, find no 5xx and no answer that breaks the schema."""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.api.conftest import bearer, invitation
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)
# The coverage phase (boundary and negative cases, ~70 s here) runs with API_FUZZ_DEEP=1; by
# default the fuzzing phase alone sends its 500+ requests (8 examples for each of ~80
# operations) in about a minute.
PHASES = "examples,coverage,fuzzing" if os.environ.get("API_FUZZ_DEEP") == "1" else "examples,fuzzing"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live_server, study, round1,
                                                                   owner, alice, tmp_path):
    staff, expert = bearer(owner), invitation(alice)
    config = tmp_path / "schemathesis.toml"
    # Real ids for the path parameters, so requests reach the code behind them, not only 404s.
    config.write_text('[parameters]\n"path.slug" = "small"\n"path.number" = 1\n'
                      '"path.code" = "agree"\n"path.fmt" = "csv"\n'
                      # groups and themes have codes of their own
                      '[[operations]]\ninclude-path-regex = "/groups/"\n'
                      '[operations.parameters]\n"path.code" = "RU"\n'
                      '[[operations]]\ninclude-path-regex = "/themes/"\n'
                      '[operations.parameters]\n"path.code" = "one"\n')
    report = tmp_path / "events.ndjson"
    started = time.monotonic()
    result = subprocess.run([
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
        f"{live_server.url}/api/schema/?format=json", "--url", live_server.url,
        "--checks", CHECKS, "--max-examples", "8", "--seed", "7", "--workers", "1",
        "--phases", PHASES, "--generation-database", "none",
        "--suppress-health-check", "all", "--request-timeout", "20",
        "-H", f"Authorization: {staff['HTTP_AUTHORIZATION']}",
        "-H", f"X-Invitation-Token: {expert['HTTP_X_INVITATION_TOKEN']}",
        "--report", "ndjson", "--report-ndjson-path", str(report), "--no-color",
    ], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - started
    (ROOT / "test-artifacts" / "schemathesis.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    requests = _count_requests(report)
    assert requests >= 500, (requests, result.stdout[-3000:])
    assert "/api/v1/studies/small/groups/RU/" in report.read_text()  # real ids reached
    print(f"schemathesis: {requests} requests in {seconds:.0f} s")


def _count_requests(report) -> int:
    """Requests sent, from the run's NDJSON events (one interaction per request)."""
    total = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        total += line.count('"request":') if "Interaction" in line or "recorder" in line else 0
        del event
    return total
