"""Query counts that hold as the data grows: measure a page with little data, grow the data,
measure again, and compare (Zulip's ``assert_database_query_count``, without a fixed number
that would pass an N+1 hiding under a ceiling)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext


@dataclass
class Counted:
    """A response and the SQL of the queries it took."""

    response: HttpResponse
    sql: list[str]

    @property
    def count(self) -> int:
        return len(self.sql)

    @property
    def text(self) -> str:
        return self.response.content.decode()


def counted(client: Client, url: str, *, method: str = "get", status: int = 200) -> Counted:
    """Request ``url`` and count its queries; the page must answer ``status``."""
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url)
    assert response.status_code == status, (url, response.status_code)
    return Counted(response, [q["sql"] for q in queries.captured_queries])


def queries_of(read: Callable[[], Any]) -> tuple[Any, list[str]]:
    """Call ``read`` and return what it returned with the SQL of its queries."""
    with CaptureQueriesContext(connection) as queries:
        result = read()
    return result, [q["sql"] for q in queries.captured_queries]


def assert_same_count(few: list[str] | Counted, many: list[str] | Counted) -> None:
    """The same number of queries with more data; on failure, show the queries of both."""
    few_sql = few.sql if isinstance(few, Counted) else few
    many_sql = many.sql if isinstance(many, Counted) else many
    assert len(many_sql) == len(few_sql), (
        f"{len(few_sql)} queries with little data, {len(many_sql)} with more:\n"
        + "\n".join(many_sql)
    )
