"""Run the `tandem` CLI in a clean environment, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_tandem(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(Path(__file__).parents[2]), **env},
        check=False,
    )
