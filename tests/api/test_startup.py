"""Bad configuration fails at start with one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from api.settings import Mode, load_settings
from graph.errors import ConfigurationError
from tests.api.conftest import TEST_SECRET
from tests.api.startup_helpers import run_tandem


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("tandem:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"TANDEM_STORE_URL": "mysql://localhost/x"}, "unsupported store URL scheme"),
        ({"TANDEM_MODE": "production"}, "missing secret"),
        ({"TANDEM_MODE": "staging"}, "TANDEM_MODE"),
        ({"TANDEM_SECRET": "zz"}, "hex"),
        ({"TANDEM_SECRET": "abcd"}, "at least 32 bytes"),
        ({"TANDEM_BCRYPT_COST": "99"}, "TANDEM_BCRYPT_COST"),
        ({"TANDEM_NEO4J_USER": "neo4j"}, "set together"),
        (
            {"TANDEM_STORE_URL": "neo4j://127.0.0.1:9", "TANDEM_SECRET": TEST_SECRET},
            "cannot reach Neo4j",
        ),
        (
            {
                "TANDEM_STORE_URL": "postgresql+asyncpg://nobody@127.0.0.1:9/none",
                "TANDEM_SECRET": TEST_SECRET,
            },
            "postgresql store is unavailable",
        ),
    ],
)
def test_bad_configuration_is_one_clear_line(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    line = one_line_error(run_tandem(tmp_path, "migrate", **env))
    assert fragment in line
    assert "abcd" not in line
    assert TEST_SECRET not in line


def test_development_generates_a_private_secret_once(tmp_path: Path) -> None:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        first = load_settings({})
        second = load_settings({})
    finally:
        os.chdir(cwd)
    assert first.mode is Mode.DEVELOPMENT
    assert first.secrets == second.secrets
    assert len(first.secrets[1]) == 32
    assert (tmp_path / ".tandem" / "secret").stat().st_mode & 0o777 == 0o600


def test_identity_cannot_live_in_neo4j() -> None:
    with pytest.raises(ConfigurationError, match="TANDEM_IDENTITY_URL"):
        load_settings({"TANDEM_SECRET": TEST_SECRET, "TANDEM_IDENTITY_URL": "neo4j://x:1"})


def test_migrate_and_seed_on_the_embedded_default(tmp_path: Path) -> None:
    migrated = run_tandem(tmp_path, "migrate", TANDEM_BCRYPT_COST="4")
    assert migrated.returncode == 0, migrated.stderr
    seeded = run_tandem(tmp_path, "seed", "--scale", "demo", TANDEM_BCRYPT_COST="4")
    assert seeded.returncode == 0, seeded.stderr
    assert "orgs: 21 created" in seeded.stdout
    again = run_tandem(tmp_path, "seed", "--scale", "demo", TANDEM_BCRYPT_COST="4")
    assert "orgs: 0 created, 21 already present" in again.stdout
    assert "users: 0 created" in again.stdout
