"""The server as OpenAPI describes it (issue 24: "A FastAPI server that looks like one"): every
operation a route of its own with the bearer token as its security and a schema for its answer
and for each error it can answer with, so that a client generated from /openapi.json knows what
it gets back; and what the server sends, answers and errors alike, is what it declares."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from pricing.operations import Operation, load_all
from pricing.server import app as server_app
from pricing.server.app import create_app
from tests.conftest import Cli, build_sales
from tests.test_cli_requests import TEAM
from tests.test_policy import POLICY


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


# What the document declares ---------------------------------------------------------------------


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


# Every operation can be refused for its input, its token, its role, a body too slow or too
# large, too many sign-ins, a bug or a store that is down; 404 only where it names something.
EVERY_ERROR = {"400", "401", "403", "408", "413", "429", "500", "503"}
NAME_SOMETHING = ["requests.show", "requests.approve", "requests.quote", "requests.submit",
                  "people.role", "deals.undo", "policy.show", "fx.show", "pricebook.show",
                  "pricebook.diff", "contracts.end"]  # fmt: skip
NAME_NOTHING = ["audit.head", "people.whoami", "pricebook.editions", "deals.imports"]


def test_every_operation_declares_what_it_answers_and_each_way_it_fails(
    described: dict[str, Any],
):
    """Given /openapi.json, when a client generator reads each operation, then it finds the
    token as its security, a real schema for its answer's document and, for every error
    status the server can send it, the one error document; and no 422 (FastAPI's own
    validation error, which this server never sends: a body that does not fit is a 400)."""
    for name in load_all():
        post = described["paths"][f"/api/{name}"]["post"]
        assert post["security"] == [{"token": []}], name
        responses = post["responses"]
        answer = _schema(described, responses["200"]["content"]["application/json"]["schema"])
        document = answer["properties"]["document"]
        # a real schema (a model, a list of them, or one of several), never "anything"
        assert set(document) & {"$ref", "type", "anyOf", "oneOf"}, (name, document)
        errors = {status for status in responses if status != "200"}
        assert errors - {"404"} == EVERY_ERROR, (name, errors)
        for status in errors:
            error = responses[status]["content"]["application/json"]["schema"]
            assert _schema(described, error)["title"] == "ErrorAnswer", (name, status)
    for name in NAME_SOMETHING:
        assert "404" in described["paths"][f"/api/{name}"]["post"]["responses"], name
    for name in NAME_NOTHING:
        assert "404" not in described["paths"][f"/api/{name}"]["post"]["responses"], name
    assert "HTTPValidationError" not in described["components"]["schemas"]
    assert "422" not in json.dumps(described["paths"])


def test_the_error_document_is_declared_once_with_its_kinds(described: dict[str, Any]):
    schemas = described["components"]["schemas"]
    assert schemas["ErrorAnswer"]["required"] == ["error"]
    problem = schemas["Problem"]
    assert problem["required"] == ["kind", "message"]
    assert problem["properties"]["kind"]["enum"] == [
        "input", "not_found", "refused", "server", "store",
    ]  # fmt: skip


def test_the_health_check_answers_the_model_it_declares(described: dict[str, Any], tmp_path: Path):
    """Given a server, when a monitor asks /api/health (no token), then the answer fits the
    Health model OpenAPI declares for 200, and 503 is declared with the same model."""
    responses = described["paths"]["/api/health"]["get"]["responses"]
    assert set(responses) == {"200", "503"}
    for status in ("200", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Health"
        }
    health = described["components"]["schemas"]["Health"]
    assert health["properties"]["status"]["enum"] == ["ok", "unavailable"]
    answer = _call(tmp_path / "server.db", "GET", "/api/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert conforms(described, responses["200"]["content"]["application/json"]["schema"],
                    answer.json()) == []  # fmt: skip


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


# What is sent is what is declared --------------------------------------------------------------


def conforms(described: dict[str, Any], schema: dict[str, Any], value: Any, at: str = "$") -> list[str]:  # fmt: skip
    """Where ``value`` does not fit ``schema`` (JSON Schema as /openapi.json writes it: $ref,
    type, properties, required, additionalProperties, items, anyOf, enum, format): none when
    it fits."""
    if "$ref" in schema:
        return conforms(described, _schema(described, schema), value, at)
    if "anyOf" in schema:
        tried = [conforms(described, choice, value, at) for choice in schema["anyOf"]]
        return [] if [] in tried else [f"{at}: fits none of anyOf: {tried}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} is not one of {schema['enum']}"]
    kind = schema.get("type")
    fits = {
        None: lambda v: True,
        "null": lambda v: v is None,
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
    }[kind]
    if not fits(value):
        return [f"{at}: {value!r} is not of type {kind}"]
    wrong: list[str] = []
    if kind == "string" and "format" in schema:
        shape = {"date": r"\d{4}-\d\d-\d\d", "date-time": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"}  # fmt: skip
        if schema["format"] in shape and not re.fullmatch(shape[schema["format"]], value):
            wrong.append(f"{at}: {value!r} is not a {schema['format']}")
    if kind == "array":
        for number, item in enumerate(value):
            wrong += conforms(described, schema.get("items", {}), item, f"{at}[{number}]")
    if kind == "object":
        properties = schema.get("properties", {})
        wrong += [f"{at}: {key!r} is missing" for key in schema.get("required", [])
                  if key not in value]  # fmt: skip
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                wrong += conforms(described, properties[key], item, f"{at}.{key}")
            elif extra is False:
                wrong.append(f"{at}: {key!r} is not declared")
            elif isinstance(extra, dict):
                wrong += conforms(described, extra, item, f"{at}.{key}")
    return wrong


@dataclass
class Shop:
    """A team's server in this process over a store with a price book and the policy; each
    person's token; and every answer it gave (operation, status, body), in order."""

    cli: Cli
    folder: Path
    portal: BlockingPortal
    client: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    answers: list[tuple[str, httpx.Response]] = field(default_factory=list)

    def call(self, person: str | None, operation: str, params: dict[str, Any] | None = None,
             *, files: dict[str, Path] | None = None, output: str | None = None) -> Any:  # fmt: skip
        """``operation`` called as ``person`` (JSON, or a form with ``files``); its answer."""
        headers = {"Authorization": f"Bearer {self.tokens[person]}"} if person else {}
        body = {"params": params or {}, "output": output}
        if files:
            uploads = {key: (path.name, path.read_bytes()) for key, path in files.items()}
            send = {"data": {"request": json.dumps(body)}, "files": uploads}
        else:
            send = {"json": body}
        answer = self.request("POST", f"/api/{operation}", headers=headers, **send)
        self.answers.append((operation, answer))
        return answer.json().get("document")

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(lambda: self.client.request(method, path, **kwargs))


@pytest.fixture
def shop(sqlite_url: str, built: Any, tmp_path: Path) -> Iterator[Shop]:
    cli = built("sales", Cli(sqlite_url), build_sales)
    tokens = {}
    for name, role in (("dana", "owner"), ("marco", "manager"), ("priya", "rep")):
        tokens[name] = cli.json("people", "add", name, "--role", role, user="dana")["token"]
    app = create_app(sqlite_url)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://team")
        yield Shop(cli, tmp_path, portal, client, tokens)
        portal.call(client.aclose)
    app.state.store.close()
    cli.close()


def _declared(kind: Any) -> tuple[type, ...]:
    """The classes an operation's result may be (a list's items, or each of a union)."""
    if typing.get_origin(kind) is list:
        return _declared(typing.get_args(kind)[0])
    return typing.get_args(kind) or (kind,)


def test_a_malformed_body_an_unknown_path_and_a_wrong_method_each_get_the_error_document(
    shop: Shop, described: dict[str, Any]
) -> None:
    """Given a signed-in rep, when she sends a body that is not JSON, parameters the operation
    does not have or of the wrong type, a form whose call is not JSON, calls an operation or
    a page the server does not have, or calls with a method a path does not take, then each
    answer is the one error document with its status (400, 404, 405), as OpenAPI declares
    it; what the CLI's client reads (the kind, the message) names what was wrong."""
    error = {"$ref": "#/components/schemas/ErrorAnswer"}
    priya = {"Authorization": f"Bearer {shop.tokens['priya']}"}
    json_type = {**priya, "Content-Type": "application/json"}
    lines = shop.folder / "lines.csv"
    lines.write_text("SKU,Qty,Discount\nHW-200,1,5\n")
    calls: list[tuple[str, str, dict[str, Any], int, str, str]] = [
        ("POST", "/api/requests.quote", {"content": b"{not json", "headers": json_type},
         400, "input", "not valid"),
        ("POST", "/api/requests.quote", {"json": {"params": {"sku": "HW-100", "qty": 1,
                                                             "colour": "red"}}, "headers": priya},
         400, "input", "colour"),
        ("POST", "/api/requests.quote", {"json": {"params": {"sku": "HW-100", "qty": "many"}},
                                         "headers": priya}, 400, "input", "qty"),
        ("POST", "/api/requests.submit", {"data": {"request": "{not json"}, "headers": priya,
                                          "files": {"lines_file": ("l.csv", lines.read_bytes())}},
         400, "input", "not valid"),
        ("POST", "/api/requests.submit", {"content": b"--x\r\nnot a form", "headers": {
            **priya, "Content-Type": "multipart/form-data; boundary=x"}}, 400, "input", ""),
        ("POST", "/api/requests.nothing", {"json": {"params": {}}, "headers": priya},
         404, "not_found", "no operation 'requests.nothing'"),
        ("GET", "/nowhere", {}, 404, "not_found", "nothing at /nowhere"),
        ("GET", "/api/requests.quote", {"headers": priya}, 405, "input", "takes POST"),
        ("DELETE", "/api/health", {}, 405, "input", "takes GET"),
        ("POST", "/docs", {}, 405, "input", "takes GET"),
    ]  # fmt: skip
    for method, path, sent, status, kind, said in calls:
        answer = shop.request(method, path, **sent)
        assert answer.status_code == status, (method, path, answer.text)
        assert conforms(described, error, answer.json()) == [], (method, path, answer.text)
        assert answer.json()["error"]["kind"] == kind, (method, path, answer.text)
        assert said in answer.json()["error"]["message"], (method, path, answer.text)
        if status == 405:
            assert answer.headers["allow"], (method, path)
        operation = described["paths"].get(path, {}).get(method.lower())
        if operation is not None:  # a status an operation answers is one it declares
            assert str(status) in operation["responses"], (method, path, status)


def test_every_operations_real_answer_is_the_one_it_declares(
    shop: Shop, described: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a team's store (a price book, the policy, an owner, a manager and a rep), when
    each operation is called as its user would (answers and refusals alike), then every
    answer fits the schema OpenAPI declares for its operation and status, each operation
    answered 200 at least once, its result was of a class its method declares (so the
    response model writes all of it), and its document is what the CLI prints for that
    result (client mode prints what embedded mode prints)."""
    from pricing.documents import dumps

    results: list[tuple[str, Any]] = []
    run = server_app.run

    def recorded(op: Operation, session: Any, params: dict[str, Any]) -> Any:
        result = run(op, session, params)
        results.append((op.name, result))
        return result

    monkeypatch.setattr(server_app, "run", recorded)
    folder, today = shop.folder, date.today()
    lines = folder / "lines.csv"
    lines.write_text("SKU,Qty,Discount\nHW-200,1,5\n")
    guardrails = folder / "guardrails.toml"
    guardrails.write_text(POLICY + TEAM)
    looser = folder / "looser.toml"
    looser.write_text(POLICY.replace("rep = 10.0", "rep = 12.0") + TEAM)
    book = folder / "dearer.csv"
    book.write_text("SKU,Family,List Price\nHW-100,Hardware,130\nHW-200,Hardware,100\n")
    deals = folder / "deals.csv"
    deals.write_text("Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"
                     "SO-1,2026-01-05,Acme,priya,HW-200,1,95.00\n")  # fmt: skip
    rates = folder / "rates.csv"
    rates.write_text("date,currency,rate\n2026-03-02,CAD,1.3601\n")
    manager_level = [{"sku": "HW-200", "qty": 2, "discount": "15"}]
    ask = {"customer": "Acme", "reason": "bid"}

    call = shop.call
    call("priya", "requests.quote", {"sku": "HW-100", "qty": 2})
    pending = call("priya", "requests.submit", {**ask, "lines": manager_level})["id"]
    call("priya", "requests.submit", ask, files={"lines_file": lines})
    call("priya", "requests.submit", {**ask, "check": True,
                                      "lines": [{"sku": "NOPE-1", "qty": 1, "discount": "5"}]})  # fmt: skip
    contract = call("priya", "requests.submit", {
        **ask, "contract": True, "starts": str(today), "ends": str(today + timedelta(days=30)),
        "lines": [{"sku": "HW-100", "qty": 1, "price": "110"}]})["id"]  # fmt: skip
    withdrawn = call("priya", "requests.submit", {**ask, "lines": manager_level})["id"]
    rejected = call("priya", "requests.submit", {**ask, "lines": manager_level})["id"]
    call("priya", "requests.change", {"ident": pending, "reason": "bid, again",
                                      "lines": [{"sku": "HW-200", "qty": 3, "discount": "15"}]})  # fmt: skip
    call("priya", "requests.list")
    call("priya", "requests.show", {"ident": pending})
    call("priya", "requests.withdraw", {"ident": withdrawn})
    call("marco", "requests.inbox")
    call("marco", "requests.decidable", {"ident": pending})
    call("marco", "requests.approve", {"ident": pending, "note": "fine"})
    call("marco", "requests.approve", {"ident": contract})
    call("marco", "requests.reject", {"ident": rejected, "note": "too deep"})
    call("priya", "requests.outcome", {"ident": pending, "outcome": "won"})
    call("priya", "contracts.list")
    call("dana", "contracts.end", {"ident": contract, "note": "ended early"})
    call("priya", "pricebook.show", {"sku": "HW-100"})
    call("priya", "pricebook.show")
    call("priya", "pricebook.editions")
    call("priya", "pricebook.export", output="book.xlsx")
    call("dana", "pricebook.import", {"effective": "2026-02-01"}, files={"file": book})
    call("dana", "pricebook.diff")
    call("priya", "policy.show")
    call("priya", "policy.check", files={"file": guardrails})
    call("dana", "deals.import", files={"file": deals})
    imported = call("dana", "deals.imports")[-1]["id"]
    call("dana", "report.build", {"by": ["rep"]})
    call("dana", "report.build", output="report.html")
    call("dana", "deals.export", output="deals.parquet")
    call("dana", "policy.simulate", files={"file": looser})
    call("dana", "policy.load", files={"file": looser})
    call("dana", "deals.undo", {"number": imported})
    call("dana", "fx.import", {"base": "USD"}, files={"file": rates})
    call("priya", "fx.show", {"currency": "USD", "in_currency": "CAD", "as_of": "2026-03-04"})
    call("priya", "people.whoami")
    call("dana", "people.add", {"name": "zoe", "role": "rep"})
    call("dana", "people.role", {"name": "zoe", "role": "manager"})
    call("dana", "people.email", {"name": "zoe", "email": "zoe@example.com"})
    call("dana", "people.reset", {"name": "zoe"})
    call("dana", "people.remove", {"name": "zoe"})
    call("dana", "people.list")
    call("dana", "audit.head")
    call("dana", "audit.verify")
    call("dana", "db.check")
    # Refusals: each is an error the operation declares.
    call("priya", "requests.show", {"ident": "R-999999"})  # not found
    call("priya", "requests.quote", {"sku": "NOPE-1", "qty": 1})  # not found
    call("priya", "deals.import", files={"file": deals})  # her role does not allow it
    call("marco", "requests.approve", {"ident": pending})  # decided already
    call(None, "audit.head")  # no token
    call("priya", "requests.quote", {"sku": "HW-100", "qty": 0})  # an input

    operations = load_all()
    answered = set()
    for name, answer in shop.answers:
        status = str(answer.status_code)
        responses = described["paths"][f"/api/{name}"]["post"]["responses"]
        assert status in responses, (name, status, answer.text)
        schema = responses[status]["content"]["application/json"]["schema"]
        assert conforms(described, schema, answer.json()) == [], (name, answer.text[:2000])
        if status == "200":
            answered.add(name)
    assert answered == set(operations), set(operations) - answered
    assert {answer.status_code for _, answer in shop.answers} >= {200, 400, 401, 403, 404}
    sent = [(n, a.json()["document"]) for n, a in shop.answers if a.status_code == 200]
    assert [name for name, _ in results] == [name for name, _ in sent]
    for (name, result), (_, document) in zip(results, sent, strict=True):
        declared = _declared(operations[name].result())
        for one in result if isinstance(result, list) else [result]:
            assert type(one) in declared, (name, type(one), declared)
        if not operations[name].output:  # (a file written answers with the name given)
            assert document == json.loads(dumps(result)), name
