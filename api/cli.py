"""The `tandem` command line."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from api.settings import Settings, load_settings
from api.stores import open_graph_store
from graph.errors import ConfigurationError, StoreUnavailable
from schema.root import schema
from seed.generator import SCALES, generate
from seed.loader import load_into

app = typer.Typer(
    help="tandem: GraphQL co-selling and account-mapping backend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"tandem: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _settings(store_url: str | None) -> Settings:
    if store_url:
        os.environ["TANDEM_STORE_URL"] = store_url
    try:
        return load_settings()
    except ConfigurationError as error:
        raise _fail(error.message) from None


async def _migrate(settings: Settings) -> None:
    store = open_graph_store(settings)
    try:
        await store.apply_schema()
    finally:
        await store.close()


def _run(coro: object) -> None:
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except StoreUnavailable as error:
        raise _fail(error.message, code=1) from None
    except ConfigurationError as error:
        raise _fail(error.message) from None


StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store URL; overrides TANDEM_STORE_URL.", show_default=False),
]


@app.command()
def migrate(store: StoreOption = None) -> None:
    """Apply the schema (constraints, tables, migrations) to the configured store."""
    settings = _settings(store)
    _run(_migrate(settings))
    typer.echo(f"schema applied to {settings.store_backend}")


@app.command()
def seed(
    scale: Annotated[str, typer.Option(help=f"One of: {', '.join(SCALES)}.")] = "demo",
    random_seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
    store: StoreOption = None,
) -> None:
    """Generate a synthetic ecosystem and load it (idempotent for the same seed)."""
    if scale not in SCALES:
        raise _fail(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
    settings = _settings(store)

    async def run() -> None:
        graph_store = open_graph_store(settings)
        try:
            await graph_store.apply_schema()
            summary = await load_into(graph_store, generate(scale, random_seed))
        finally:
            await graph_store.close()
        typer.echo(summary)

    _run(run())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    store: StoreOption = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Migrate and load the demo data set first.")
    ] = False,
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql in development mode)."""
    settings = _settings(store)
    typer.echo(f"secret: {settings.secret_source}", err=True)

    async def preflight() -> None:
        graph_store = open_graph_store(settings)
        try:
            await graph_store.ping()
            await graph_store.apply_schema()
            if demo:
                summary = await load_into(graph_store, generate("demo", 7))
                typer.echo(f"demo data: {summary}", err=True)
        finally:
            await graph_store.close()

    _run(preflight())
    typer.echo(f"tandem on http://{host}:{port}/graphql ({settings.store_backend})", err=True)
    uvicorn.run(
        "api.app:create_app", factory=True, host=host, port=port, workers=workers
    )


@app.command("export-schema")
def export_schema(
    output: Annotated[Path, typer.Argument(help="Where to write the SDL.")] = Path(
        "schema.graphql"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="Fail if the file differs instead of writing.")
    ] = False,
) -> None:
    """Write the GraphQL SDL (schema.graphql)."""
    sdl = schema.as_str() + "\n"
    if check:
        current = output.read_text() if output.exists() else ""
        if current != sdl:
            raise _fail(f"{output} is out of date: run `tandem export-schema`", code=1)
        typer.echo(f"{output} is current")
        return
    output.write_text(sdl)
    typer.echo(f"wrote {output}")


def main() -> None:  # pragma: no cover - entry point
    app(sys.argv[1:])
