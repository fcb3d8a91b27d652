"""The server as OpenAPI describes it (issue 24: "A FastAPI server that looks like one"): every
operation a route of its own with the bearer token as its security and a schema for its answer
and for each error, so that a client generated from /openapi.json knows what it gets back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from pricing.operations import load_all
from pricing.server.app import create_app


def _call(db: Path, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call to a server over ``db``, in this process (no socket)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(f"sqlite:///{db}"))
        async with httpx.AsyncClient(transport=transport, base_url="http://server") as client:
            return await client.request(method, path, **kwargs)

    return anyio.run(call)


@pytest.fixture(scope="module")
def described(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("openapi") / "server.db"
    document: dict[str, Any] = _call(db, "GET", "/openapi.json").json()
    return document


def test_given_the_server_then_openapi_declares_the_bearer_token(described: dict[str, Any]):
    schemes = described["components"]["securitySchemes"]
    assert schemes == {
        "token": {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["token"]["description"],
        }
    }


def test_every_operation_is_a_route_that_needs_the_token(described: dict[str, Any]):
    routes = {path.removeprefix("/api/") for path in described["paths"] if path != "/api/health"}
    assert routes == set(load_all())
    for name in routes:
        post = described["paths"][f"/api/{name}"]["post"]
        assert post["security"] == [{"token": []}], name


def _schema(described: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].rsplit("/", 1)[-1]
    schema: dict[str, Any] = described["components"]["schemas"][name]
    return schema


def test_every_operation_declares_what_it_answers_and_how_it_fails(described: dict[str, Any]):
    for name in load_all():
        responses = described["paths"][f"/api/{name}"]["post"]["responses"]
        answer = _schema(described, responses["200"]["content"]["application/json"]["schema"])
        document = answer["properties"]["document"]
        # a real schema (a model, a list of them, or one of several), never "anything"
        assert set(document) & {"$ref", "type", "anyOf", "oneOf"}, (name, document)
        for status in ("400", "401", "403", "404", "503"):
            error = responses[status]["content"]["application/json"]["schema"]
            assert _schema(described, error)["title"] == "ErrorAnswer", (name, status)


def test_an_operation_taking_a_file_declares_its_form(described: dict[str, Any]):
    body = described["paths"]["/api/deals.import"]["post"]["requestBody"]["content"]
    form = body["multipart/form-data"]["schema"]["properties"]
    assert form["file"] == {"type": "string", "format": "binary"}
    assert "request" in form


def test_a_call_without_a_token_is_refused_with_the_error_document(tmp_path: Path):
    answer = _call(
        tmp_path / "server.db",
        "POST",
        "/api/requests.quote",
        json={"params": {"sku": "X", "qty": 1}},
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["kind"] == "server"
