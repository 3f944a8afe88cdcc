"""An app on a fresh embedded SQLite store, driven through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings, load_settings

TEST_SECRET = "ab" * 32


def settings_for(store_url: str, **env: str) -> Settings:
    return load_settings({"TANDEM_STORE_URL": store_url, "TANDEM_SECRET": TEST_SECRET, **env})


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    app = create_app(settings_for(sqlite_url))
    with TestClient(app) as test_client:
        yield test_client


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
