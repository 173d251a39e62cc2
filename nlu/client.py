"""A typed async client for Rasa's HTTP API (``POST /model/parse``, ``GET /status``,
``PUT /model``).

Every failure to get a usable answer (time-out, refused connection, HTTP error, malformed
JSON) becomes :class:`NluUnavailable`, so callers have one thing to act on.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError

from nlu.errors import NluUnavailable, RasaServerError
from nlu.parsing import Entity, IntentScore, ModelStatus, NluParser, ParseResult

__all__ = ["Entity", "IntentScore", "ModelStatus", "NluParser", "ParseResult", "RasaClient"]

logger = logging.getLogger(__name__)

# Loading a model unpacks and initialises it: far slower than a parse.
_MODEL_LOAD_SECONDS = 120.0


# --- the wire format --------------------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _WireIntent(_Wire):
    name: str | None = None
    confidence: float = 0.0


class _WireEntity(_Wire):
    entity: str
    value: Any
    start: int | None = None
    end: int | None = None
    confidence_entity: float | None = None
    extractor: str | None = None


class _WireParse(_Wire):
    text: str
    intent: _WireIntent | None = None
    intent_ranking: list[_WireIntent] = []
    entities: list[_WireEntity] = []


class _WireStatus(_Wire):
    model_file: str | None = None
    model_id: str | None = None


def _to_result(wire: _WireParse) -> ParseResult:
    def score(intent: _WireIntent) -> IntentScore | None:
        return IntentScore(intent.name, intent.confidence) if intent.name else None

    top = score(wire.intent) if wire.intent else None
    ranking = tuple(s for s in (score(i) for i in wire.intent_ranking) if s is not None)
    if top is not None and not ranking:
        ranking = (top,)
    entities = tuple(
        Entity(
            entity=e.entity,
            value=str(e.value),
            start=e.start,
            end=e.end,
            confidence=e.confidence_entity,
            extractor=e.extractor,
        )
        for e in wire.entities
    )
    return ParseResult(text=wire.text, intent=top, ranking=ranking, entities=entities)


# --- the client -------------------------------------------------------------------------


class RasaClient:
    """Talks to one Rasa server. Safe to share between tasks; close it with :meth:`aclose`.

    On aiohttp: the same parse cost about 2 ms more CPU through httpx (tandem bench load,
    py-spy), most of the gap between Rasa inside Tandem and bare Rasa.
    """

    def __init__(self, *, base_url: str, token: str | None = None, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._params = {"token": token} if token else {}
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None  # made in the loop that uses it

    async def parse(self, text: str) -> ParseResult:
        """What the NLU sees in ``text``. Raises :class:`NluUnavailable`."""
        body = await self._request("POST", "/model/parse", body={"text": text})
        try:
            return _to_result(_WireParse.model_validate(body))
        except ValidationError as exc:
            raise NluUnavailable(f"Rasa at {self.base_url} sent a malformed parse result") from exc

    async def status(self) -> ModelStatus:
        """The loaded model. Raises :class:`NluUnavailable`."""
        body = await self._request("GET", "/status")
        try:
            wire = _WireStatus.model_validate(body)
        except ValidationError as exc:
            raise NluUnavailable(f"Rasa at {self.base_url} sent a malformed status") from exc
        return ModelStatus(model_file=wire.model_file, model_id=wire.model_id)

    async def load_model(self, model: Path) -> None:
        """Replace the served model (``PUT /model``); Rasa keeps the old one on failure."""
        try:
            async with self._http().put(
                f"{self.base_url}/model",
                params=self._params,
                json={"model_file": str(model)},
                timeout=aiohttp.ClientTimeout(total=_MODEL_LOAD_SECONDS),
            ) as response:
                status, body = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaServerError(f"could not reach Rasa at {self.base_url}: {exc!r}") from exc
        if status != 204:
            raise RasaServerError(
                f"Rasa could not load {model.name} (HTTP {status}): {_failure_message(body)}"
            )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
        return self._session

    async def _request(self, method: str, path: str, *, body: Any = None) -> Any:
        try:
            async with self._http().request(
                method, f"{self.base_url}{path}", params=self._params, json=body
            ) as response:
                status, content = response.status, await response.read()
        except TimeoutError as exc:
            raise NluUnavailable(
                f"Rasa at {self.base_url} did not answer within {self._timeout:g} s"
            ) from exc
        except aiohttp.ClientError as exc:
            raise NluUnavailable(
                f"could not reach Rasa at {self.base_url} ({_reason(exc)})"
            ) from exc
        if status != 200:
            raise NluUnavailable(
                f"Rasa at {self.base_url} answered HTTP {status}: {_failure_message(content)}"
            )
        try:
            return json.loads(content)
        except ValueError as exc:
            raise NluUnavailable(
                f"Rasa at {self.base_url} sent an answer that is not JSON"
            ) from exc


def _reason(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connection refused or host unreachable"
    return type(exc).__name__


def _failure_message(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    try:
        return str(json.loads(body).get("message", text[:200]))
    except (ValueError, AttributeError):
        return text[:200]
