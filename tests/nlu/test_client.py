"""RasaClient against a hand-written fake Rasa HTTP server (aiohttp, bound to 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import ValidationError

from nlu.client import Entity, IntentScore, ModelStatus, ParseResult, RasaClient
from nlu.errors import NluUnavailable, RasaServerError

TOKEN = "rasa-token-7f3a"

# What Rasa 3.6 answers to POST /model/parse (trimmed of the fields the client ignores).
PARSE_ANSWER: dict[str, Any] = {
    "text": "where is order ORD-48213, I ordered 3 seats",
    "intent": {"name": "order_status", "confidence": 0.91},
    "entities": [
        {
            "entity": "order_id",
            "start": 15,
            "end": 24,
            "confidence_entity": 0.87,
            "value": "ORD-48213",
            "extractor": "DIETClassifier",
        },
        {
            "entity": "quantity",
            "start": 36,
            "end": 37,
            "value": 3,
            "extractor": "RegexEntityExtractor",
        },
    ],
    "text_tokens": [[0, 5], [6, 8], [9, 14]],
    "intent_ranking": [
        {"name": "order_status", "confidence": 0.91},
        {"name": "order_cancel", "confidence": 0.06},
        {"name": "greet", "confidence": 0.03},
    ],
    "response_selector": {"all_retrieval_intents": [], "default": {}},
}


def rasa_failure(code: int, reason: str, message: str) -> dict[str, Any]:
    """Rasa's JSON error body."""
    return {
        "version": "3.6.21",
        "status": "failure",
        "message": message,
        "reason": reason,
        "details": {},
        "help": None,
        "code": code,
    }


@dataclass
class Answer:
    """What the fake server answers on one route."""

    status: int = 200
    json_body: Any = None
    text: str | None = None
    hang: bool = False  # hold the request until the server stops


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakeRasa:
    """A stand-in for Rasa's HTTP API: records each request, serves configured answers."""

    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    def answer(self, method: str, path: str, answer: Answer) -> None:
        self.answers[(method, path)] = answer

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        self.requests.append(
            Recorded(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                body=json.loads(raw) if raw else None,
            )
        )
        answer = self.answers.get((request.method, request.path))
        if answer is None:
            return web.json_response(rasa_failure(404, "NotFound", "no route"), status=404)
        if answer.hang:
            await self._release.wait()
        if answer.text is not None:
            return web.Response(status=answer.status, text=answer.text)
        if answer.status == 204:
            return web.Response(status=204)
        return web.json_response(answer.json_body, status=answer.status)


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    server = FakeRasa()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def client(rasa: FakeRasa) -> AsyncIterator[RasaClient]:
    client = RasaClient(base_url=rasa.url + "/", token=TOKEN, timeout=10.0)
    try:
        yield client
    finally:
        await client.aclose()


def unused_port() -> int:
    """A port nothing listens on: bound once to get a free number, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- parse: success ---------------------------------------------------------------------


async def test_parse_reads_intent_ranking_and_entities(rasa: FakeRasa, client: RasaClient) -> None:
    rasa.answer("POST", "/model/parse", Answer(json_body=PARSE_ANSWER))

    result = await client.parse("where is order ORD-48213, I ordered 3 seats")

    assert result.text == PARSE_ANSWER["text"]
    assert result.intent == IntentScore("order_status", 0.91)
    assert result.ranking == (
        IntentScore("order_status", 0.91),
        IntentScore("order_cancel", 0.06),
        IntentScore("greet", 0.03),
    )
    assert result.entities == (
        Entity(
            entity="order_id",
            value="ORD-48213",
            start=15,
            end=24,
            confidence=0.87,
            extractor="DIETClassifier",
        ),
        Entity(
            entity="quantity",
            value="3",
            start=36,
            end=37,
            confidence=None,
            extractor="RegexEntityExtractor",
        ),
    )
    assert result.confidence == pytest.approx(0.91)
    assert result.margin == pytest.approx(0.85)


async def test_parse_sends_the_text_and_the_token(rasa: FakeRasa, client: RasaClient) -> None:
    rasa.answer("POST", "/model/parse", Answer(json_body=PARSE_ANSWER))

    await client.parse("hello there")

    assert rasa.requests == [
        Recorded(
            method="POST",
            path="/model/parse",
            query={"token": TOKEN},
            body={"text": "hello there"},
        )
    ]


async def test_no_token_means_no_query_string(rasa: FakeRasa) -> None:
    rasa.answer("POST", "/model/parse", Answer(json_body=PARSE_ANSWER))
    client = RasaClient(base_url=rasa.url)
    try:
        await client.parse("hi")
    finally:
        await client.aclose()

    assert rasa.requests[0].query == {}


@pytest.mark.parametrize("value", [42, 2.5, True, {"from": "a", "to": "b"}])
async def test_non_string_entity_values_become_strings(
    rasa: FakeRasa, client: RasaClient, value: object
) -> None:
    body = {**PARSE_ANSWER, "entities": [{"entity": "thing", "value": value}]}
    rasa.answer("POST", "/model/parse", Answer(json_body=body))

    result = await client.parse("x")

    assert result.entities == (Entity(entity="thing", value=str(value)),)


async def test_null_intent_means_no_intent_and_empty_ranking(
    rasa: FakeRasa, client: RasaClient
) -> None:
    # What Rasa answers for an empty message, or with a model that has no intent classifier.
    body = {"text": "", "intent": {"name": None, "confidence": 0.0}, "entities": []}
    rasa.answer("POST", "/model/parse", Answer(json_body=body))

    result = await client.parse("")

    assert result.intent is None
    assert result.ranking == ()
    assert result.entities == ()
    assert result.confidence == 0.0
    assert result.margin == 1.0


async def test_ranking_entries_without_a_name_are_dropped(
    rasa: FakeRasa, client: RasaClient
) -> None:
    body = {
        "text": "hi",
        "intent": {"name": "greet", "confidence": 0.7},
        "intent_ranking": [
            {"name": "greet", "confidence": 0.7},
            {"name": None, "confidence": 0.2},
            {"name": "goodbye", "confidence": 0.1},
        ],
    }
    rasa.answer("POST", "/model/parse", Answer(json_body=body))

    result = await client.parse("hi")

    assert [score.name for score in result.ranking] == ["greet", "goodbye"]
    assert result.margin == pytest.approx(0.6)


async def test_missing_ranking_becomes_a_ranking_of_the_intent(
    rasa: FakeRasa, client: RasaClient
) -> None:
    body = {"text": "hi", "intent": {"name": "greet", "confidence": 0.64}}
    rasa.answer("POST", "/model/parse", Answer(json_body=body))

    result = await client.parse("hi")

    assert result.intent == IntentScore("greet", 0.64)
    assert result.ranking == (IntentScore("greet", 0.64),)
    assert result.margin == 1.0
    assert result.confidence == pytest.approx(0.64)


def test_margin_and_confidence_properties() -> None:
    top, second = IntentScore("billing_refund", 0.55), IntentScore("billing_invoice", 0.40)
    close_call = ParseResult(text="t", intent=top, ranking=(top, second), entities=())
    nothing = ParseResult(text="t", intent=None, ranking=(), entities=())

    assert close_call.confidence == pytest.approx(0.55)
    assert close_call.margin == pytest.approx(0.15)
    assert nothing.confidence == 0.0
    assert nothing.margin == 1.0


# --- parse: failures --------------------------------------------------------------------


async def test_http_500_includes_rasas_message(rasa: FakeRasa, client: RasaClient) -> None:
    failure = rasa_failure(500, "ParsingError", "An unexpected error occurred. Error: boom")
    rasa.answer("POST", "/model/parse", Answer(status=500, json_body=failure))

    with pytest.raises(NluUnavailable) as caught:
        await client.parse("hi")

    message = str(caught.value)
    assert "HTTP 500" in message
    assert "An unexpected error occurred. Error: boom" in message
    assert rasa.url in message


async def test_http_500_with_a_plain_text_body_includes_the_text(
    rasa: FakeRasa, client: RasaClient
) -> None:
    rasa.answer("POST", "/model/parse", Answer(status=500, text="Internal Server Error"))

    with pytest.raises(NluUnavailable, match=r"HTTP 500: Internal Server Error"):
        await client.parse("hi")


async def test_http_401_says_so(rasa: FakeRasa, client: RasaClient) -> None:
    failure = rasa_failure(401, "NotAuthenticated", "User is not authenticated.")
    rasa.answer("POST", "/model/parse", Answer(status=401, json_body=failure))

    with pytest.raises(NluUnavailable) as caught:
        await client.parse("hi")

    assert "HTTP 401" in str(caught.value)
    assert "User is not authenticated." in str(caught.value)


async def test_non_json_answer(rasa: FakeRasa, client: RasaClient) -> None:
    rasa.answer("POST", "/model/parse", Answer(text="<html>proxy error</html>"))

    with pytest.raises(NluUnavailable, match="not JSON") as caught:
        await client.parse("hi")

    assert isinstance(caught.value.__cause__, ValueError)


@pytest.mark.parametrize(
    "body",
    [
        {"intent": {"name": "greet", "confidence": 0.9}},  # no text
        {"text": "hi", "intent": {"name": "greet", "confidence": "very"}},
        {"text": "hi", "entities": [{"value": "x"}]},  # entity without its type
        ["not", "an", "object"],
        None,
    ],
)
async def test_json_of_the_wrong_shape(rasa: FakeRasa, client: RasaClient, body: Any) -> None:
    rasa.answer("POST", "/model/parse", Answer(json_body=body))

    with pytest.raises(NluUnavailable, match="malformed parse result") as caught:
        await client.parse("hi")

    assert isinstance(caught.value.__cause__, ValidationError)


async def test_an_answer_slower_than_the_timeout(rasa: FakeRasa) -> None:
    rasa.answer("POST", "/model/parse", Answer(json_body=PARSE_ANSWER, hang=True))
    client = RasaClient(base_url=rasa.url, timeout=0.2)
    try:
        with pytest.raises(NluUnavailable, match=r"did not answer within 0\.2 s") as caught:
            await client.parse("hi")
    finally:
        await client.aclose()

    assert isinstance(caught.value.__cause__, TimeoutError)


async def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    client = RasaClient(base_url=url)
    try:
        with pytest.raises(NluUnavailable) as caught:
            await client.parse("hi")
    finally:
        await client.aclose()

    assert str(caught.value) == (
        f"could not reach Rasa at {url} (connection refused or host unreachable)"
    )
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)


# --- status -----------------------------------------------------------------------------


async def test_status(rasa: FakeRasa, client: RasaClient) -> None:
    body = {
        "model_file": "/srv/models/nlu-20261121-083744-000001.tar.gz",
        "model_id": "4b1c3f0e9a7d4e2f8c6b5a4d3e2f1a0b",
        "num_active_training_jobs": 0,
    }
    rasa.answer("GET", "/status", Answer(json_body=body))

    status = await client.status()

    assert status == ModelStatus(
        model_file="/srv/models/nlu-20261121-083744-000001.tar.gz",
        model_id="4b1c3f0e9a7d4e2f8c6b5a4d3e2f1a0b",
    )
    assert rasa.requests[0].query == {"token": TOKEN}


async def test_status_without_a_model(rasa: FakeRasa, client: RasaClient) -> None:
    rasa.answer("GET", "/status", Answer(json_body={"num_active_training_jobs": 0}))

    assert await client.status() == ModelStatus(model_file=None, model_id=None)


async def test_malformed_status(rasa: FakeRasa, client: RasaClient) -> None:
    rasa.answer("GET", "/status", Answer(json_body=["model.tar.gz"]))

    with pytest.raises(NluUnavailable, match="malformed status") as caught:
        await client.status()

    assert isinstance(caught.value.__cause__, ValidationError)


# --- load_model -------------------------------------------------------------------------


async def test_load_model(rasa: FakeRasa, client: RasaClient, tmp_path: Path) -> None:
    model = tmp_path / "nlu-20261121-083744-000001.tar.gz"
    rasa.answer("PUT", "/model", Answer(status=204))

    await client.load_model(model)

    assert rasa.requests == [
        Recorded(
            method="PUT",
            path="/model",
            query={"token": TOKEN},
            body={"model_file": str(model)},
        )
    ]


async def test_load_model_refused_by_rasa(
    rasa: FakeRasa, client: RasaClient, tmp_path: Path
) -> None:
    model = tmp_path / "nlu-broken.tar.gz"
    failure = rasa_failure(400, "LoadingError", f"Could not load model from '{model}'.")
    rasa.answer("PUT", "/model", Answer(status=400, json_body=failure))

    with pytest.raises(RasaServerError) as caught:
        await client.load_model(model)

    message = str(caught.value)
    assert "nlu-broken.tar.gz" in message
    assert "HTTP 400" in message
    assert f"Could not load model from '{model}'." in message


async def test_load_model_with_rasa_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    client = RasaClient(base_url=url)
    try:
        with pytest.raises(RasaServerError, match="could not reach Rasa") as caught:
            await client.load_model(tmp_path / "nlu-x.tar.gz")
    finally:
        await client.aclose()

    assert url in str(caught.value)
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)
