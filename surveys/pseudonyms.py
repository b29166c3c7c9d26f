"""Stable per-study pseudonyms for experts: a keyed hash, so exports never carry names or ids.

The pseudonym is an HMAC-SHA256 of the study and expert ids, keyed with this installation's
pseudonym key: the same expert keeps the same pseudonym in every export of a study (and across
restarts), different studies give unlinkable pseudonyms, and nobody without the key can map one
back to an id by trying the few thousand ids a database holds. The key is never SECRET_KEY,
whose embedded default is public: it is AGORA_PSEUDONYM_KEY (required by production settings),
else a random key created on first use in DATA_DIR (`var/pseudonym.key` by default) and read
from there by every later process. Changing the key changes every pseudonym.
"""

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "P-"
LENGTH = 10  # hex digits: 40 bits, collision-free for any realistic panel (checked below)
_SALT = "agora-delphi.surveys.pseudonyms"
KEY_FILE = "pseudonym.key"
_MIN_KEY = 32  # characters


@functools.cache
def _file_key(path: Path) -> bytes:
    """The key in the file, created first if missing. Two processes starting at once may both
    write a candidate, but only one is linked into place (link fails on an existing file), and
    both then read that one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        candidate.write_text(secrets.token_hex(32) + "\n")
        candidate.chmod(0o600)
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    key = path.read_text().strip()
    if len(key) < _MIN_KEY:
        raise ImproperlyConfigured(f"The pseudonym key in {path} is shorter than {_MIN_KEY} "
                                   "characters; restore the file or set AGORA_PSEUDONYM_KEY.")
    return key.encode()


def pseudonym_key() -> bytes:
    """This installation's pseudonym key (see the module's docstring)."""
    if settings.PSEUDONYM_KEY:
        return settings.PSEUDONYM_KEY.encode()
    return _file_key(Path(settings.DATA_DIR) / KEY_FILE)


def _pseudonym(key: bytes, study_id: int, expert_id: int) -> str:
    message = f"{_SALT}:{study_id}:{expert_id}".encode()
    return PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:LENGTH]


def expert_pseudonym(*, study_id: int, expert_id: int) -> str:
    """The expert's pseudonym within the study, e.g. 'P-3f9a1c2b7d'."""
    return _pseudonym(pseudonym_key(), study_id, expert_id)


def pseudonym_map(*, study_id: int, expert_ids) -> dict[int, str]:
    """Pseudonyms for many experts of one study, keyed by expert id; refuses a collision."""
    key = pseudonym_key()
    mapping = {pk: _pseudonym(key, study_id, pk) for pk in set(expert_ids)}
    if len(set(mapping.values())) != len(mapping):  # 40 bits: practically never, but never silent
        raise RuntimeError("two experts of this study share a pseudonym; lengthen LENGTH")
    return mapping
