"""Keys and orders that nothing an expert sees can be traced back from.

An expert's pages, fragments, API answers and browser storage carry no internal id of an expert
or a round, and the order in which they read the panel's arguments is a permutation keyed by a
secret: SECRET_KEY and the study's own random `feedback_key` (stored in the database, never
shown), so the order cannot be recomputed from anything the expert sees or can guess, even on
the embedded default whose SECRET_KEY is public. Sorting by the keyed digest ignores the
order the rationales were read in, so the storage order (the order of first saves, which would
line up one author's arguments across items) leaks nothing.
"""

import hashlib
import hmac

from django.utils.crypto import salted_hmac

from surveys.models import Expert, Round


def _key(study_key: str, purpose: str) -> bytes:
    return salted_hmac(f"agora.surveys.{purpose}", study_key, algorithm="sha256").digest()


def store_key(expert: Expert, round_: Round) -> str:
    """The name the expert's browser keeps unsaved answers under: stable for the expert and the
    round (the drafts survive a reload), and opaque."""
    key = _key(expert.study.feedback_key, "store-key")
    digest = hmac.new(key, f"{expert.pk}:{round_.pk}".encode(), hashlib.sha256).hexdigest()
    return "agora-" + digest[:24]


def argument_order(arguments: list[dict], *, expert: Expert, round_: Round,
                   item_id: int) -> list[dict]:
    """The arguments (each with its rationale's `id`) in the expert's own order for the item:
    the same on every visit, unrelated to the order they were stored in."""
    key = _key(expert.study.feedback_key, "argument-order")
    prefix = f"{expert.pk}:{round_.pk}:{item_id}:".encode()
    return sorted(arguments, key=lambda a: hmac.new(
        key, prefix + str(a["id"]).encode(), hashlib.sha256).digest())
