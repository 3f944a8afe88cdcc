"""/readyz follows a store going away and coming back, without a restart."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from tests.api.conftest import settings_for

SCRIPT = Path(__file__).parents[2] / "tools" / "postgres" / "postgres.sh"


def postgres(command: str, state: Path) -> str:
    result = subprocess.run(
        ["bash", str(SCRIPT), command, str(state)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL cluster of this test's own, so stopping it disturbs no other test."""
    state = tmp_path_factory.mktemp("readiness-pg")
    state.chmod(0o755)
    url = postgres("start", state)
    try:
        yield url, state
    finally:
        postgres("stop", state)


def test_readyz_turns_503_and_back_when_postgres_stops_and_starts(
    own_postgres: tuple[str, Path], sqlite_url: str
) -> None:
    url, state = own_postgres
    settings = settings_for(url, TANDEM_IDENTITY_URL=sqlite_url, TANDEM_READINESS_TIMEOUT="3")
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
        postgres("stop", state)
        down = client.get("/readyz")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "unavailable"
        assert body["stores"]["identity"] == "ok"
        assert "postgresql" in body["stores"]["graph"]
        assert client.get("/healthz").status_code == 200
        assert postgres("start", state) == url
        assert client.get("/readyz").status_code == 200
