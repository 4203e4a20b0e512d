"""The seed's stack, approximated: FastAPI on uvicorn returning the same bytes as Dongfeng.

Run by Benchmarks/run.sh: uvicorn app:app --ssl-certfile ... with PEER_JSON and PEER_PAGE naming
the captured /api/v1/opportunities?limit=20 body and the page.
"""
import os

from fastapi import FastAPI
from fastapi.responses import Response

JSON = open(os.environ["PEER_JSON"], "rb").read()
PAGE = open(os.environ["PEER_PAGE"], "rb").read()

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/api/v1/opportunities")
def opportunities(limit: int = 20) -> Response:
    return Response(JSON, media_type="application/json", headers={"Cache-Control": "no-store"})


@app.get("/")
def index() -> Response:
    return Response(PAGE, media_type="text/html; charset=utf-8")


@app.get("/health")
def health() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")
