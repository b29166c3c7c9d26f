"""Stable per-study pseudonyms for experts: a keyed hash, so exports never carry names or ids.

The pseudonym is an HMAC-SHA256 (keyed with SECRET_KEY) of the study and expert ids: the same
expert keeps the same pseudonym in every export of a study, different studies give unlinkable
pseudonyms, and nobody without the key can recover an id from one. Rotating SECRET_KEY changes
every pseudonym.
"""

from django.utils.crypto import salted_hmac

PREFIX = "P-"
LENGTH = 10  # hex digits: 40 bits, collision-free for any realistic panel (checked below)
_SALT = "agora-delphi.surveys.pseudonyms"


def expert_pseudonym(*, study_id: int, expert_id: int) -> str:
    """The expert's pseudonym within the study, e.g. 'P-3f9a1c2b7d'."""
    digest = salted_hmac(_SALT, f"{study_id}:{expert_id}", algorithm="sha256").hexdigest()
    return PREFIX + digest[:LENGTH]


def pseudonym_map(*, study_id: int, expert_ids) -> dict[int, str]:
    """Pseudonyms for many experts of one study, keyed by expert id; refuses a collision."""
    mapping = {pk: expert_pseudonym(study_id=study_id, expert_id=pk) for pk in set(expert_ids)}
    if len(set(mapping.values())) != len(mapping):  # 40 bits: practically never, but never silent
        raise RuntimeError("two experts of this study share a pseudonym; lengthen LENGTH")
    return mapping
