"""The seed's stack, approximated: FastAPI on uvicorn returning the same bytes as Dongfeng.

Run by Benchmarks/run.sh: uvicorn app:app --ssl-certfile ... with PEER_JSON and PEER_PAGE naming
the captured /api/v1/opportunities?limit=20 body and the page. Handlers are `async def`, as FastAPI
users write handlers that do no blocking I/O (a plain `def` runs each request in a thread pool);
uvicorn runs with uvloop and httptools (`uvicorn[standard]`, its own performance advice).
"""
import os

from fastapi import FastAPI
from fastapi.responses import Response

JSON = open(os.environ["PEER_JSON"], "rb").read()
PAGE = open(os.environ["PEER_PAGE"], "rb").read()

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/api/v1/opportunities")
async def opportunities(limit: int = 20) -> Response:
    return Response(JSON, media_type="application/json", headers={"Cache-Control": "no-store"})


@app.get("/")
async def index() -> Response:
    return Response(PAGE, media_type="text/html; charset=utf-8")


@app.get("/health")
async def health() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")
