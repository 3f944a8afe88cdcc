"""bench/http_api.py at tiny scale: its baseline answers as GraphQL does, and the whole
harness runs end to end. Timings are never asserted."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import load_settings
from bench import http_api, http_baseline


def test_the_baseline_answers_every_operation_as_graphql_does(tmp_path: Path) -> None:
    env = http_api.bench_env(tmp_path)
    world = asyncio.run(http_api.build(env, accounts=120))
    settings = load_settings(env)
    with (
        TestClient(create_app(settings)) as graphql,
        TestClient(http_baseline.create_app(settings)) as bare,
    ):
        token = graphql.post(
            "/graphql",
            json={
                "query": http_api.LOGIN,
                "variables": {"email": world.email, "password": http_api.PASSWORD},
            },
        ).json()["data"]["login"]["token"]
        headers = {"authorization": f"Bearer {token}"}
        for op in http_api.OPS:
            answers = {}
            for server, client in (("graphql", graphql), ("bare", bare)):
                path, body = http_api.request_of(server, op, world)
                response = client.post(path, json=body, headers=headers)
                assert http_api.problem(op, response) == "", (server, op)
                answers[server] = response.json()
            assert answers["bare"] == answers["graphql"], op
        refused = bare.post("/viewer", headers={"authorization": "Bearer nope"})
        assert refused.status_code == 401


def test_the_harness_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # tools/test installs wrk; without it this is a failure, never a skip.
    assert shutil.which("wrk"), "the benchmark harness needs wrk: apt-get install -y wrk"
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nearlier sections\n")
    argv = ["--ops", "viewer", "--concurrency", "1", "--workers", "1", "--duration", "1"]
    argv += ["--warmup", "0", "--accounts", "100", "--no-pin", "--docs", str(docs)]
    text = http_api.main(argv)
    rows = [line for line in text.splitlines() if line.startswith("| viewer |")]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[:3] == ["viewer", "1", "1"]
    assert cells[6] == "0"  # GraphQL errors
    assert cells[10] == "0"  # baseline errors
    assert "bench/run http_api --ops viewer" in text
    assert text in capsys.readouterr().out
    assert (
        docs.read_text()
        == f"# Benchmarks\n\nearlier sections\n\n{http_api.BEGIN}\n{text}{http_api.END}\n"
    )


def test_a_new_run_replaces_its_section(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nearlier sections\n")
    http_api.write_docs(docs, "first run\n")
    with docs.open("a") as more:
        more.write("\n## A later section\n")
    http_api.write_docs(docs, "second run\n")
    written = docs.read_text()
    assert written == (
        f"# Benchmarks\n\nearlier sections\n\n{http_api.BEGIN}\nsecond run\n"
        f"{http_api.END}\n\n## A later section\n"
    )
