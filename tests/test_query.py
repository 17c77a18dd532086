"""recordInfo reads taskId with its own query-string reader: it must agree with
Starlette's query_params on every form a client may send."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from genjobs.api.query import query_value


@pytest.mark.parametrize(
    "query",
    [
        b"taskId=abc",
        b"a=1&taskId=x%20y&taskId=z+w",  # the last one wins, + is a space
        b"taskId",  # no "=": an empty value
        b"taskId=",
        b"",
        b"task%49d=escaped-key",
        b"taskId=%C3%A9t%C3%A9",  # UTF-8 escapes
        b"taskid=wrong-case",
        b"x=1&&y=2",
        b"taskId=a=b",
    ],
)
def test_query_value_agrees_with_starlette(query: bytes) -> None:
    assert query_value(query, "taskId") == QueryParams(query).get("taskId")
