"""The school morning (07:00–09:00) compressed in time, for locust (run by bench/morning/run.py).

Each simulated person is signed in already: the run writes their sessions through Django's
session engine and hands the cookies over in ``BENCH_MORNING_PEOPLE`` (a JSON file). The
work of the morning is a queue taken once: every listed guardian reports their child absent,
every class's contact teacher registers attendance (one or two pupils absent, which opens
lookup cases) and marks the daily check; kontor follows the school's status and lookup
overview; guardians write to the contact teacher, and teachers read their messages and
answer the newest thread. A trivial page (``/healthz``) is asked
all along as the floor of the framework on the same server. The server's ``X-Query-Count``
per request is written to ``BENCH_MORNING_QUERIES`` at the end.
"""

import json
import os
import random
import re
import secrets
import threading
from collections import defaultdict
from typing import Any

from locust import HttpUser, between, events, task

with open(os.environ["BENCH_MORNING_PEOPLE"]) as _people:
    PEOPLE = json.load(_people)
TODAY = PEOPLE["today"]
_lock = threading.Lock()
_queues: dict[str, list[dict[str, Any]]] = {
    "guardians": list(PEOPLE["guardians"]),
    "teachers": list(PEOPLE["teachers"]),
}
QUERIES: dict[str, list[int]] = defaultdict(list)
THREAD_LINK = re.compile(r'href="/messages/(\d+)/"')


def _take(kind: str) -> dict[str, Any] | None:
    with _lock:
        queue = _queues[kind]
        return queue.pop() if queue else None


@events.request.add_listener
def _count_queries(name: str, response: Any, exception: Any, **_: Any) -> None:
    if response is not None and exception is None:
        value = response.headers.get("X-Query-Count")
        if value is not None:
            QUERIES[name].append(int(value))


@events.quitting.add_listener
def _write_queries(**_: Any) -> None:
    with open(os.environ["BENCH_MORNING_QUERIES"], "w") as out:
        json.dump(QUERIES, out)


class Person(HttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)

    def sign_in(self, session_key: str) -> None:
        self.csrf = secrets.token_hex(16)  # 32 characters: a valid CSRF secret
        self.client.cookies.clear()  # the person before on this simulated browser
        self.client.cookies.set("sessionid", session_key)
        self.client.cookies.set("csrftoken", self.csrf)

    def post(self, url: str, data: dict[str, str], name: str) -> None:
        with self.client.post(
            url,
            data=data,
            headers={"X-CSRFToken": self.csrf},
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"{response.status_code}")

    def get(self, url: str, name: str) -> str:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            return response.text or ""


class Guardian(Person):
    """A guardian reports their child sick, looks at the child's page and the messages."""

    weight = 4

    @task
    def morning(self) -> None:
        who = _take("guardians")
        if who is None:
            who = random.choice(PEOPLE["guardians"])
            self.sign_in(who["session"])
            self.get("/messages/", "messaging inbox")
            return
        self.sign_in(who["session"])
        pupil = who["pupil"]
        self.get(f"/absence/children/{pupil}/report/", "guardian report form")
        self.post(
            f"/absence/children/{pupil}/report/",
            {
                "start_date": TODAY,
                "end_date": TODAY,
                "day_part": "whole",
                "absence_type": str(who["absence_type"]),
            },
            "guardian report (POST)",
        )
        self.get(f"/absence/children/{pupil}/", "guardian child page")
        if random.random() < 0.5:
            self.post(
                f"/messages/children/{pupil}/new/",
                {
                    "recipients": "contact_teacher",
                    "subject": "Fråvær i dag",
                    "body": "Ho er sjuk i dag. Kan de sende leksene?",
                    "idempotency_key": secrets.token_hex(16),
                },
                "message to the teacher (POST)",
            )
        self.get("/messages/", "messaging inbox")


class Teacher(Person):
    """A contact teacher registers the class, then the class team checks the day."""

    weight = 3

    @task
    def morning(self) -> None:
        who = _take("teachers")
        if who is None:
            who = random.choice(PEOPLE["teachers"])
            self.sign_in(who["session"])
            self.get(f"/absence/groups/{who['group']}/check/", "daily check")
            self.get("/messages/", "messaging inbox")
            return
        self.sign_in(who["session"])
        group = who["group"]
        self.get(f"/absence/groups/{group}/register/", "registration page")
        absent = random.sample(who["pupils"], k=min(len(who["pupils"]), random.randint(1, 2)))
        data = {"date": TODAY} | {f"status-{pk}": "absent" for pk in absent}
        self.post(f"/absence/groups/{group}/register/", data, "registration (POST)")
        self.get(f"/absence/groups/{group}/check/", "daily check")
        self.post(f"/absence/groups/{group}/check/", {}, "daily check (POST)")
        inbox = self.get("/messages/", "messaging inbox")
        newest = THREAD_LINK.search(inbox)
        if newest:
            thread = newest.group(1)
            self.get(f"/messages/{thread}/", "message thread")
            self.post(
                f"/messages/{thread}/",
                {
                    "body": "Takk for beskjed. God betring!",
                    "idempotency_key": secrets.token_hex(16),
                },
                "reply (POST)",
            )


class Office(Person):
    """Kontor follows the school's checks and the lookup cases (one simulated person, at any
    number of users, so that their pages are always measured)."""

    fixed_count = 1

    @task
    def follow(self) -> None:
        who = random.choice(PEOPLE["offices"])
        self.sign_in(who["session"])
        self.get(f"/absence/schools/{who['school']}/checks/", "school check status")
        self.get(f"/absence/schools/{who['school']}/lookup/", "lookup overview")


class Baseline(HttpUser):
    """The floor: a trivial page on the same server, asked all through the run."""

    fixed_count = 1
    wait_time = between(0.5, 1.5)

    @task
    def health(self) -> None:
        self.client.get("/healthz", name="baseline /healthz")
