"""The ceiling for bench/api.py: the same stack (FastAPI on uvicorn, the same envelope
response class) answering a constant task record, with no auth and no database."""

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from genjobs.api.envelope import ok

app = FastAPI()
RECORD = {
    "taskId": "0" * 32,
    "model": "genjobs/echo",
    "state": "success",
    "param": '{"model":"genjobs/echo","input":{"text":"bench"}}',
    "resultJson": '{"resultObject": {"text": "bench"}}',
    "failCode": "",
    "failMsg": "",
    "costTime": 3,
    "createTime": 1,
    "updateTime": 2,
    "completeTime": 2,
    "progress": 100,
}


@app.get("/bare")
async def bare() -> JSONResponse:
    return ok(RECORD)


@app.post("/bare")
async def bare_post() -> JSONResponse:
    return ok({"taskId": "0" * 32})
