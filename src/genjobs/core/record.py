"""The task record exactly as recordInfo and callbacks show it (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# kie's record field -> the tasks column it shows, in kie's order.
RECORD_COLUMNS = {
    "taskId": "id",
    "model": "model",
    "state": "state",
    "param": "param",
    "resultJson": "result_json",
    "failCode": "fail_code",
    "failMsg": "fail_msg",
    "costTime": "cost_time",
    "createTime": "create_time",
    "updateTime": "update_time",
    "completeTime": "complete_time",
    "progress": "progress",
}
# Numbers on the wire are always numbers: these two are 0 until the task finishes (kie's
# typed clients parse them as integers in every state), and consumeCredits is a float.
ZERO_UNTIL_FINISHED = frozenset({"cost_time", "complete_time"})


def task_record(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        field: (row[column] or 0) if column in ZERO_UNTIL_FINISHED else row[column]
        for field, column in RECORD_COLUMNS.items()
    }


def callback_body(row: Mapping[Any, Any], remained_credits: float | None) -> dict[str, Any]:
    """The POST body of a final callback: code 200 on success, 501 on failure."""
    success = row["state"] == "success"
    data = task_record(row)
    data["consumeCredits"] = round(float(row["price"]), 4) if success else 0.0
    data["remainedCredits"] = round(float(remained_credits or 0), 4)
    message = (
        "Generation completed successfully."
        if success
        else (f"Generation failed: {row['fail_msg'] or row['fail_code']}")
    )
    return {"code": 200 if success else 501, "msg": message, "data": data}
