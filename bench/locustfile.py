"""Locust users for bench/load.py: experts on the questionnaire, and the trivial view.

Driven by environment variables that bench/load.py sets:
  BENCH_DATA   JSON: {"experts": [{"k", "cookie", "csrf", "version"}], "items": [{"code", "kind",
               "keys", "low", "high"}]}: each expert's signed-in session (the runner makes it, as
               opening the personal link would) and the study's items
  BENCH_MODE   open | autosave | submit | flow, or a floor of bench/floor_urls.py: session |
               write (the Expert user; the Trivial user needs none)
  BENCH_THINK  "low,high" seconds between an expert's steps (flow); 0 = back to back
  BENCH_ACKS   where to write, at the end, per expert: the answers the server acknowledged and
               those of a request still in flight when the run stopped (it may or may not count)
Each step is one request; `--stop-timeout` lets every expert finish the one in flight.
"""

import json
import os
import random
import re

from locust import FastHttpUser, between, constant, events, task

DATA = json.loads(open(os.environ["BENCH_DATA"]).read()) if os.environ.get("BENCH_DATA") else {}  # noqa: SIM115
MODE = os.environ.get("BENCH_MODE", "flow")
LOW, _, HIGH = os.environ.get("BENCH_THINK", "0").partition(",")
WAIT = between(float(LOW), float(HIGH or LOW)) if float(HIGH or LOW) > 0 else constant(0)
FLOW = ["open", "autosave", "autosave", "autosave", "autosave", "autosave", "submit"]
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

_free = list(DATA.get("experts", []))
# expert k -> {"items": {code: fields acknowledged}, "pending": {code: [fields whose request got
# no answer: a timeout or a run that stopped, so the server may or may not have stored them]}}
ACKS: dict[int, dict] = {}


def item_fields(item: dict, rng: random.Random) -> dict[str, str]:
    """One item's form fields with a valid random answer, as the questionnaire posts them."""
    code, kind = item["code"], item["kind"]
    if kind == "open":
        return {f"a-{code}.text": f"Load test idea {rng.randrange(10**6)}"}
    if kind in {"agreement", "dimensions", "probability"} and rng.random() < 0.04:
        return {f"a-{code}.none": "1"}
    fields = {}
    if kind == "ranking":
        places = rng.sample(range(1, len(item["keys"]) + 1), len(item["keys"]))
        fields = {f"a-{code}.{key}": str(place) for key, place in zip(item["keys"], places, strict=True)}
    else:
        for key in item["keys"]:
            name = f"a-{code}.{key}" if key else f"a-{code}"
            fields[name] = str(rng.randint(int(item["low"]), int(item["high"])))
    if rng.random() < 0.3:
        fields[f"a-{code}.why"] = f"Because of reason {rng.randrange(1000)}."
    return fields


class Expert(FastHttpUser):
    """One panel member: signs in with the personal link, then answers step by step."""

    wait_time = WAIT

    def on_start(self):
        me = _free.pop()
        self.k, self.rng = me["k"], random.Random(me["k"])  # noqa: S311 - test answers, not secrets
        # Experts arrive at different points of their work, not all opening the page at once.
        self.version, self.csrf, self.step = str(me["version"]), me["csrf"], self.rng.randrange(len(FLOW))
        self.headers = {"Cookie": me["cookie"]}
        self.acks = ACKS.setdefault(self.k, {"items": {}, "pending": {}, "submits": 0})

    def open(self):
        with self.client.get("/q/", name="open", headers=self.headers, catch_response=True) as response:
            if response.status_code != 200 or not VERSION.search(response.text or ""):
                response.failure(f"questionnaire answered {response.status_code}")
                return
            self.version = VERSION.search(response.text).group(1)
            self.csrf = CSRF.search(response.text).group(1)

    def autosave(self):
        item = self.rng.choice(DATA["items"])
        fields = item_fields(item, self.rng)
        data = {"csrfmiddlewaretoken": self.csrf, "version": self.version, **fields}
        self._sending({item["code"]: fields})
        with self.client.post("/q/autosave/", data=data, name="autosave", catch_response=True,
                              headers=self.headers | {"HX-Request": "true"}) as response:
            self._answered(response, {item["code"]: fields}, ok=response.status_code == 200)
            found = VERSION.search(response.text or "")
            if response.status_code != 200 or not found:
                response.failure(f"autosave answered {response.status_code}")
                self.open()
                return
            self.version = found.group(1)

    def session(self):
        self.client.get("/floor/session/", name="session", headers=self.headers)

    def write(self):
        with self.client.get("/floor/write/", name="write", headers=self.headers,
                             catch_response=True) as response:
            if response.text != "1\n":
                response.failure(f"the floor wrote {response.text!r} rows")

    def submit(self):
        answers = {item["code"]: item_fields(item, self.rng) for item in DATA["items"]}
        data = {"csrfmiddlewaretoken": self.csrf, "version": self.version, "action": "submit"}
        for fields in answers.values():
            data |= fields
        self._sending(answers)
        with self.client.post("/q/", data=data, name="submit", allow_redirects=False,
                              headers=self.headers, catch_response=True) as response:
            submitted = "submitted=1" in response.headers.get("location", "")
            self._answered(response, answers, ok=response.status_code == 302)
            if response.status_code != 302 or not submitted:
                response.failure(f"submit answered {response.status_code}")
                self.open()
                return
            self.version = str(int(self.version) + 1)
            self.acks["submits"] += 1

    def _sending(self, answers: dict) -> None:
        for code, fields in answers.items():
            self.acks["pending"].setdefault(code, []).append(fields)

    def _answered(self, response, sent: dict, *, ok: bool) -> None:
        """An HTTP answer settles the request: stored if ok, else not at all (each save is one
        transaction). No answer (status 0: a timeout) leaves it pending."""
        if response.status_code == 0:
            return
        pending = self.acks["pending"]
        for code in sent:
            pending[code].pop()
            if ok or not pending[code]:
                del pending[code]  # an acknowledged write supersedes any earlier unsettled one
        if ok:
            self.acks["items"] |= sent

    @task
    def next_step(self):
        if MODE == "flow":
            name = FLOW[self.step % len(FLOW)]
            self.step += 1
        else:
            name = MODE
        getattr(self, name)()


class Trivial(FastHttpUser):
    """The ceiling: a Django view that does nothing, through the same middleware and gunicorn."""

    wait_time = constant(0)

    @task
    def livez(self):
        self.client.get("/livez", name="trivial")


@events.quitting.add_listener
def _write_acks(environment, **_kwargs):
    if os.environ.get("BENCH_ACKS"):
        with open(os.environ["BENCH_ACKS"], "w") as out:
            json.dump(ACKS, out)
