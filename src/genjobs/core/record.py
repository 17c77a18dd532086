"""The task record exactly as recordInfo and callbacks show it (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def task_record(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "taskId": row["id"],
        "model": row["model"],
        "state": row["state"],
        "param": row["param"],
        "resultJson": row["result_json"],
        "failCode": row["fail_code"],
        "failMsg": row["fail_msg"],
        "costTime": row["cost_time"],
        "createTime": row["create_time"],
        "updateTime": row["update_time"],
        "completeTime": row["complete_time"],
        "progress": row["progress"],
    }


def callback_body(row: Mapping[Any, Any], remained_credits: float | None) -> dict[str, Any]:
    """The POST body of a final callback: code 200 on success, 501 on failure."""
    success = row["state"] == "success"
    data = task_record(row)
    data["consumeCredits"] = 0 if not success else round(row["price"], 4)
    data["remainedCredits"] = None if remained_credits is None else round(remained_credits, 4)
    message = (
        "Generation completed successfully."
        if success
        else (f"Generation failed: {row['fail_msg'] or row['fail_code']}")
    )
    return {"code": 200 if success else 501, "msg": message, "data": data}
