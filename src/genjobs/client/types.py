"""Typed results of the SDK."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FINAL_STATES = ("success", "fail")


@dataclass(frozen=True)
class Task:
    """A task record (recordInfo) with ``param`` and ``resultJson`` decoded."""

    task_id: str
    model: str
    state: str
    param: dict[str, Any]
    result_json: str
    fail_code: str
    fail_msg: str
    cost_time: int | None  # ms; None until the task finished
    create_time: int | None
    update_time: int | None
    complete_time: int | None  # ms since the epoch; None until the task finished
    progress: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Task:
        param = record.get("param") or "{}"
        return cls(
            task_id=str(record["taskId"]),
            model=str(record.get("model", "")),
            state=str(record.get("state", "")),
            param=json.loads(param) if isinstance(param, str) else dict(param),
            result_json=str(record.get("resultJson") or ""),
            fail_code=str(record.get("failCode") or ""),
            fail_msg=str(record.get("failMsg") or ""),
            cost_time=_when_finished(record, "costTime"),
            create_time=_optional_int(record.get("createTime")),
            update_time=_optional_int(record.get("updateTime")),
            complete_time=_when_finished(record, "completeTime"),
            progress=int(
                record.get("progress") or (100 if record.get("state") == "success" else 0)
            ),
            raw=dict(record),
        )

    @property
    def is_finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == "success"

    @property
    def result(self) -> Any:
        """``resultJson`` decoded; None until the task succeeded."""
        return json.loads(self.result_json) if self.result_json else None

    def result_or_raise(self) -> Any:
        """The decoded result; raises TaskFailedError if the task failed."""
        from genjobs.client.errors import TaskFailedError

        if self.state == "fail":
            raise TaskFailedError(self)
        return self.result


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _when_finished(record: Mapping[str, Any], key: str) -> int | None:
    """costTime / completeTime: genjobs sends 0 until the task finishes (kie's typed clients
    want a number in every state), kie.ai may send null; both mean "not yet" here."""
    if record.get("state") not in FINAL_STATES:
        return None
    return _optional_int(record.get(key))


@dataclass(frozen=True)
class TaskPage:
    items: list[Task]
    next_cursor: str | None


@dataclass(frozen=True)
class UploadedFile:
    file_name: str
    file_path: str
    download_url: str
    file_size: int
    mime_type: str
    uploaded_at: str

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> UploadedFile:
        return cls(
            file_name=data["fileName"],
            file_path=data["filePath"],
            download_url=data["downloadUrl"],
            file_size=int(data["fileSize"]),
            mime_type=data["mimeType"],
            uploaded_at=data["uploadedAt"],
        )
