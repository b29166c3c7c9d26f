"""Pseudonyms are keyed with this installation's own random key, never the public default
SECRET_KEY: the same in every process and after a restart, and required in production."""

import os
import secrets
import subprocess
import sys

import pytest
from django.utils.crypto import salted_hmac

from surveys.pseudonyms import expert_pseudonym
from tests.conftest import ROOT

DEFAULT_SECRET = "insecure-embedded-default-change-me-" + "x" * 20  # config/settings/base.py
PRINT = ("import django; django.setup(); from surveys.pseudonyms import expert_pseudonym as p; "
         "print(','.join(p(study_id=1, expert_id=e) for e in range(1, 6)))")


def _keyed_by_the_default_secret(study_id: int, expert_id: int) -> str:
    """What anyone with the public code computes for an installation without DJANGO_SECRET_KEY."""
    digest = salted_hmac("agora-delphi.surveys.pseudonyms", f"{study_id}:{expert_id}",
                         secret=DEFAULT_SECRET, algorithm="sha256").hexdigest()
    return "P-" + digest[:10]


def _embedded_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "AGORA_", "DATABASE_URL", "CELERY_"))}
    return env | {"DJANGO_SETTINGS_MODULE": "config.settings.base"} | values


def _start(**values: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PRINT], cwd=ROOT, env=_embedded_env(**values),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _pseudonyms(proc: subprocess.Popen) -> list[str]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out.strip().splitlines()[-1].split(",")


def test_an_analyst_cannot_map_pseudonyms_back_with_the_public_default_secret(settings):
    settings.SECRET_KEY = DEFAULT_SECRET
    settings.PSEUDONYM_KEY = ""
    for expert_id in range(1, 50):
        assert expert_pseudonym(study_id=1, expert_id=expert_id) != \
            _keyed_by_the_default_secret(1, expert_id)


def test_two_processes_started_at_once_share_one_new_key_that_survives_a_restart(tmp_path):
    data = tmp_path / "var"
    first, second = _start(AGORA_DATA_DIR=str(data)), _start(AGORA_DATA_DIR=str(data))
    one, two = _pseudonyms(first), _pseudonyms(second)
    assert one == two and len(set(one)) == 5
    assert one != [_keyed_by_the_default_secret(1, e) for e in range(1, 6)]
    key = data / "pseudonym.key"
    assert key.stat().st_mode & 0o077 == 0 and len(key.read_text().strip()) >= 32
    assert [p.name for p in data.iterdir()] == ["pseudonym.key"]  # no candidate left behind
    assert _pseudonyms(_start(AGORA_DATA_DIR=str(data))) == one  # after a restart
    assert _pseudonyms(_start(AGORA_DATA_DIR=str(tmp_path / "other"))) != one  # per installation


def test_the_key_from_the_environment_wins_over_the_file(tmp_path):
    key = secrets.token_hex(32)
    one = _pseudonyms(_start(AGORA_DATA_DIR=str(tmp_path / "a"), AGORA_PSEUDONYM_KEY=key))
    two = _pseudonyms(_start(AGORA_DATA_DIR=str(tmp_path / "b"), AGORA_PSEUDONYM_KEY=key))
    assert one == two and not (tmp_path / "a").exists()


@pytest.mark.parametrize("key", ["", "short", "same-as-the-secret"])
def test_production_settings_refuse_to_start_without_a_pseudonym_key(key):
    secret = secrets.token_urlsafe(50)
    env = _embedded_env(DJANGO_SETTINGS_MODULE="config.settings.production",
                        DJANGO_SECRET_KEY=secret, DJANGO_ALLOWED_HOSTS="127.0.0.1",
                        AGORA_PSEUDONYM_KEY=secret if key == "same-as-the-secret" else key)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "AGORA_PSEUDONYM_KEY" in result.stderr
