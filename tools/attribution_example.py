"""Print the README's "Worked example: attribution" from the demo seed.

Loads the demo ecosystem (scale demo, seed 7, as `tandem serve --demo` does, but replayed
as of a fixed date so the output does not drift) into a throwaway SQLite store, picks the
demo vendor's WON deal with the most partners on its influence paths (a multi-hop one
first, then the larger amount, then the name), and runs `influencePaths` and
`attribution` under LINEAR, TIME_DECAY and SHAPLEY through the GraphQL endpoint as the
vendor's admin. Regenerate with:

    .venv/bin/python -m tools.attribution_example > /tmp/example.md

and paste it between the markers in README.md (tests/api/test_attribution_example.py
checks that the block is current).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from strawberry.relay import to_base64

from api.app import create_app
from api.settings import Settings, load_settings
from api.stores import auth_config, open_stores
from graph.deals import OpportunityStatus
from graph.identity import Role
from seed.generator import DEMO_PASSWORD, EPOCH, generate
from seed.loader import load_into

SCALE, SEED = "demo", 7
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)  # the load's "now"
MODELS = ("LINEAR", "TIME_DECAY", "SHAPLEY")
START, END = "<!-- attribution-example:start -->", "<!-- attribution-example:end -->"

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token } }"""
PATHS = """query($id: ID!) {
  influencePaths(opportunityId: $id, maxHops: 3) {
    hops
    steps { kind at partner { name } introduced { name } }
  }
}"""
ATTRIBUTION = """query($id: ID!, $model: AttributionModel!) {
  attribution(opportunityId: $id, model: $model) {
    model amount currency
    credits { partner { name } share amount }
  }
}"""


async def _load(settings: Settings) -> tuple[str, str, str]:
    """Load the demo; the vendor admin's email, the chosen opportunity's id and name."""
    eco = generate(SCALE, SEED)
    stores = open_stores(settings)
    try:
        await stores.apply_schema()
        await load_into(
            stores.graph, stores.identity, eco, auth_config(settings), settings.keyring, now=NOW
        )
        admin = next(u for u in eco.users if u.role is Role.ADMIN)
        closed = await stores.graph.closed_opportunities(
            admin.org_id,
            closed_from=EPOCH - timedelta(days=3_650),
            closed_to=NOW + timedelta(days=1),
            first=10_000,
        )
        won = {o.id: o for o in closed.items if o.status is OpportunityStatus.WON}
        paths = await stores.graph.influence_paths(
            admin.org_id, list(won), max_hops=3, window=timedelta(days=365), now=NOW
        )

        def rank(opportunity_id: str) -> tuple[int, int, Any, str]:
            found = paths.get(opportunity_id, [])
            o = won[opportunity_id]
            multi = any(p.hops for p in found)
            return (-int(multi), -len({p.origin for p in found}), -o.amount, o.name)

        chosen = won[min(won, key=rank)]
        return admin.email, chosen.id, chosen.name
    finally:
        await stores.close()


def _gql(client: TestClient, query: str, token: str | None, **variables: Any) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def run(workdir: Path) -> tuple[str, list[Any], dict[str, Any]]:
    """The chosen deal's name, its paths and its attribution per model (GraphQL data)."""
    settings = load_settings(
        {
            "TANDEM_STORE_URL": f"sqlite+aiosqlite:///{workdir / 'example.sqlite3'}",
            "TANDEM_SECRET": "ab" * 32,
            "TANDEM_BCRYPT_COST": "4",
        }
    )
    email, opportunity_id, name = asyncio.run(_load(settings))
    node = to_base64("Opportunity", opportunity_id)
    with TestClient(create_app(settings)) as client:
        token = _gql(client, LOGIN, None, email=email, password=DEMO_PASSWORD)["login"]["token"]
        paths = _gql(client, PATHS, token, id=node)["influencePaths"]
        credit = {
            m: _gql(client, ATTRIBUTION, token, id=node, model=m)["attribution"] for m in MODELS
        }
    return name, paths, credit


def _step(step: dict[str, Any]) -> str:
    introduced = f" -> {step['introduced']['name']}" if step["introduced"] else ""
    return f"{step['partner']['name']} {step['kind']} {step['at'][:10]}{introduced}"


def markdown(name: str, paths: list[Any], credit: dict[str, Any]) -> str:
    first = credit[MODELS[0]]
    lines = [
        START,
        f"The demo vendor's won deal **{name}** ({first['amount']} {first['currency']}), "
        f"signed in as the vendor's admin (`$id` is the deal's global id):",
        "",
        "```graphql",
        PATHS,
        "```",
        "",
        f"{len(paths)} paths; each row is one path, its steps in order (a step that "
        "introduced a partner names it after the arrow):",
        "",
        "| hops | steps |",
        "|---:|---|",
        *[f"| {p['hops']} | " + " ; ".join(_step(s) for s in p["steps"]) + " |" for p in paths],
        "",
        "The first multi-hop path as returned:",
        "",
        "```json",
        json.dumps(next((p for p in paths if p["hops"]), paths[0]), indent=1),
        "```",
        "",
        "Its credit under three models (one query per model):",
        "",
        "```graphql",
        ATTRIBUTION,
        "```",
        "",
        "| partner | " + " | ".join(MODELS) + " |",
        "|---|" + "---:|" * len(MODELS),
    ]
    partners = sorted({c["partner"]["name"] for m in MODELS for c in credit[m]["credits"]})
    for partner in partners:
        cells = []
        for model in MODELS:
            found = [c for c in credit[model]["credits"] if c["partner"]["name"] == partner]
            cells.append(f"{found[0]['amount']} ({found[0]['share']})" if found else "-")
        lines.append(f"| {partner} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Amounts in the deal's currency, shares in parentheses; every model's amounts sum "
        "to the deal's amount. Regenerate with `.venv/bin/python -m tools.attribution_example`.",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        sys.stdout.write(markdown(*run(Path(workdir))) + "\n")


if __name__ == "__main__":
    main()
