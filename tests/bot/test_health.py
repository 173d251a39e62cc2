"""/healthz: each component in words; 503 only when one is down."""

from __future__ import annotations

import aiohttp
import pytest

from bot.http import HealthReport, HttpServer


@pytest.mark.parametrize(
    ("report", "code", "status"),
    [
        (HealthReport(healthy=True, checks={"database": "ok"}), 200, "ok"),
        (
            HealthReport(
                healthy=True,
                checks={"telegram": "degraded: no getUpdates answer for 45 s"},
                degraded=True,
            ),
            200,
            "degraded",
        ),
        (HealthReport(healthy=False, checks={"telegram": "down: polling stopped"}), 503, "failing"),
    ],
)
async def test_healthz_says_how_each_component_is(
    report: HealthReport, code: int, status: str
) -> None:
    async def health() -> HealthReport:
        return report

    server = HttpServer(host="127.0.0.1", port=0, health=health)
    await server.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{server.port}/healthz") as response,
        ):
            assert response.status == code
            assert await response.json() == {"status": status, "checks": report.checks}
    finally:
        await server.stop()


@pytest.mark.parametrize(("healthy", "code"), [(True, 200), (False, 503)])
async def test_readyz_answers_load_balancers(healthy: bool, code: int) -> None:
    checks = {"database": "ok" if healthy else "failing: refused", "state": "ok", "nlu": "ok"}

    async def ready() -> HealthReport:
        return HealthReport(healthy=healthy, checks=checks)

    async def health() -> HealthReport:
        raise AssertionError("/readyz asks readiness, not health")

    server = HttpServer(host="127.0.0.1", port=0, health=health, ready=ready)
    await server.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{server.port}/readyz") as response,
        ):
            assert response.status == code
            assert await response.json() == {"ready": healthy, "checks": checks}
    finally:
        await server.stop()
