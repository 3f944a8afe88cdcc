"""The README's worked attribution example is current: re-running tools/attribution_example
on the demo seed prints the block README.md holds, and every model's credits sum to the
deal's amount."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tools.attribution_example import END, MODELS, START, markdown, run

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_attribution_example_is_current(tmp_path: Path) -> None:
    name, paths, credit = run(tmp_path)
    assert len({p["steps"][0]["partner"]["name"] for p in paths}) >= 2
    assert any(p["hops"] >= 1 for p in paths)
    for model in MODELS:
        result = credit[model]
        amounts = [Decimal(c["amount"]) for c in result["credits"]]
        assert all(a >= 0 for a in amounts)
        assert sum(amounts) == Decimal(result["amount"]), model
    text = README.read_text(encoding="utf-8")
    block = text[text.index(START) : text.index(END) + len(END)]
    assert block == markdown(name, paths, credit), (
        "README.md's attribution example is stale: "
        "regenerate with .venv/bin/python -m tools.attribution_example"
    )
