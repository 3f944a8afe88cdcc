"""The `tandem` command line: serve, migrate, seed, export-schema, and admin bootstrap."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn

from api.progress import rows_progress
from api.settings import Settings, load_settings
from api.stores import Stores, auth_config, open_stores
from graph.errors import TandemError
from graph.identity import Role, TokenScope
from graph.model import OrgType
from resolvers import admin
from resolvers.auth.api_tokens import create_api_token
from resolvers.clock import utcnow
from resolvers.importing.csv_import import import_csv
from resolvers.importing.mapping import PRESETS, with_overrides
from resolvers.importing.opportunities_import import import_opportunities_csv
from resolvers.importing.opportunity_mapping import PRESETS as OPPORTUNITY_PRESETS
from resolvers.importing.opportunity_mapping import with_options
from resolvers.importing.touches_import import import_touches_csv
from resolvers.keys import rotate
from schema.root import graphql_schema
from seed.generator import SCALES, generate
from seed.loader import load_into

T = TypeVar("T")

app = typer.Typer(
    help="tandem: GraphQL co-selling and account-mapping backend.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
org_app = typer.Typer(help="Manage organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
import_app = typer.Typer(help="Import CRM exports.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage the keys that hash account keys.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(keys_app, name="keys")

StoreOption = Annotated[
    str | None,
    typer.Option("--store", help="Store URL; overrides TANDEM_STORE_URL.", show_default=False),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"tandem: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _settings(store_url: str | None) -> Settings:
    if store_url:
        # Through the environment, so that uvicorn's worker processes see it too.
        os.environ["TANDEM_STORE_URL"] = store_url
    try:
        return load_settings()
    except TandemError as error:
        raise _fail(error.message) from None


def _with_stores(settings: Settings, work: Callable[[Stores], Awaitable[T]]) -> T:
    """Open the stores, apply the schema, run `work`, close; errors become one line."""

    async def run() -> T:
        stores = open_stores(settings)
        try:
            await stores.graph.ping()
            await stores.apply_schema()
            return await work(stores)
        finally:
            await stores.close()

    try:
        return asyncio.run(run())
    except TandemError as error:
        raise _fail(error.message, code=1) from None


@app.command()
def migrate(store: StoreOption = None) -> None:
    """Apply the schema (constraints, tables, migrations) to the configured stores."""
    settings = _settings(store)

    async def nothing(_: Stores) -> None:
        return None

    _with_stores(settings, nothing)
    typer.echo(f"schema applied ({settings.store_backend} graph, SQL identity)")


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

    async def load(stores: Stores) -> str:
        with rows_progress() as progress:
            task = progress.add_task(f"seeding {scale} accounts", total=None)
            summary = await load_into(
                stores.graph,
                stores.identity,
                generate(scale, random_seed),
                auth_config(settings),
                settings.keyring,
                on_accounts=lambda n: progress.advance(task, n),
            )
        return str(summary)

    typer.echo(_with_stores(settings, load))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    store: StoreOption = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo data set first (idempotent).")
    ] = False,
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql in development mode)."""
    settings = _settings(store)
    typer.echo(f"secret: {settings.secret_source}", err=True)

    async def prepare(stores: Stores) -> None:
        if demo:
            eco = generate("demo", 7)
            summary = await load_into(
                stores.graph, stores.identity, eco, auth_config(settings), settings.keyring
            )
            typer.echo(f"demo data: {summary}", err=True)
            typer.echo(f"demo login: {eco.demo_login_hint()}", err=True)

    _with_stores(settings, prepare)
    events = "Redis events" if settings.event_broker_url else "in-process events"
    typer.echo(
        f"tandem on http://{host}:{port}/graphql ({settings.store_backend}, {events})", err=True
    )
    # tandem's own access log (api/observability.py) replaces uvicorn's, which would log
    # query strings, and GET requests carry variables there.
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
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
    sdl = graphql_schema.as_str() + "\n"
    if check:
        current = output.read_text() if output.exists() else ""
        if current != sdl:
            raise _fail(f"{output} is out of date: run `tandem export-schema`", code=1)
        typer.echo(f"{output} is current")
        return
    output.write_text(sdl)
    typer.echo(f"wrote {output}")


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Argument(help="The organization's name.")],
    org_type: Annotated[
        list[OrgType] | None,
        typer.Option("--type", help="Repeat for several types. [default: VENDOR]"),
    ] = None,
    region: Annotated[str, typer.Option(help="Region, e.g. NA, EMEA, APAC.")] = "NA",
    discoverable: Annotated[bool, typer.Option(help="Visible to partner discovery.")] = False,
    store: StoreOption = None,
) -> None:
    """Create an organization and print its id."""
    types = set(org_type or [OrgType.VENDOR])
    settings = _settings(store)

    async def work(stores: Stores) -> str:
        org = await admin.create_org(
            stores.graph,
            name=name,
            types=types,
            region=region,
            discoverable=discoverable,
            now=utcnow(),
        )
        return org.id

    typer.echo(_with_stores(settings, work))


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The user's e-mail address (the login).")],
    org: Annotated[str, typer.Option("--org", help="Organization id.")],
    role: Annotated[Role, typer.Option(help="Role in the organization.")] = Role.ADMIN,
    display_name: Annotated[str, typer.Option(help="Name shown to others.")] = "",
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input instead of a prompt.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Add a user to an organization (creating the user when new)."""
    settings = _settings(store)
    password = (
        typer.get_text_stream("stdin").readline().rstrip("\n")
        if password_stdin
        else typer.prompt("password", hide_input=True, confirmation_prompt=True)
    )

    async def work(stores: Stores) -> str:
        user, membership = await admin.add_user(
            stores.graph,
            stores.identity,
            auth_config(settings),
            email=email,
            password=password,
            display_name=display_name,
            org_id=org,
            role=role,
            now=utcnow(),
        )
        return f"{user.email} is {membership.role.value} of {membership.org_id}"

    typer.echo(_with_stores(settings, work))


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option("--user", help="The user the token acts for.")],
    org: Annotated[str, typer.Option("--org", help="Organization id.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    scope: Annotated[TokenScope, typer.Option(help="READ or READ_WRITE.")] = TokenScope.READ,
    store: StoreOption = None,
) -> None:
    """Create an API token; prints the secret once."""
    settings = _settings(store)

    async def work(stores: Stores) -> str:
        actor = await admin.acting_as(stores.identity, email=email, org_id=org)
        secret, _ = await create_api_token(
            stores.identity, actor, name=name, scope=scope, expires_at=None, now=utcnow()
        )
        return secret

    typer.echo(_with_stores(settings, work))


@import_app.command("accounts")
def import_accounts(
    file: Annotated[Path, typer.Argument(help="CSV file (UTF-8).", exists=True, dir_okay=False)],
    org: Annotated[str, typer.Option("--org", help="Organization id the accounts belong to.")],
    preset: Annotated[
        str, typer.Option("--format", help=f"Column preset: {', '.join(PRESETS)}.")
    ] = "tandem",
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="TARGET=COLUMN[,COLUMN]; repeatable, overrides the preset."),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per write.", min=1, max=10_000)] = 5_000,
    workers: Annotated[
        int, typer.Option(help="Processes that parse, normalize and hash.", min=1)
    ] = max(1, os.cpu_count() or 1),
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go. [default: FILE.rejects.csv]")
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore an earlier interrupted run's progress.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Stream a CRM account export into tandem: batched, resumable, with a rejects file."""
    if preset not in PRESETS:
        raise _fail(f"unknown --format {preset!r}: use one of {', '.join(PRESETS)}")
    settings = _settings(store)
    try:
        columns = with_overrides(PRESETS[preset], mapping or [])
    except TandemError as error:
        raise _fail(error.message) from None
    rejects_path = rejects or file.with_name(file.name + ".rejects.csv")
    checkpoint = rejects_path.with_name(rejects_path.name + ".checkpoint")

    async def work(stores: Stores) -> str:
        with rows_progress() as progress:
            task = progress.add_task(f"importing {file.name}", total=None)
            summary = await import_csv(
                stores.graph,
                settings.keyring,
                org_id=org,
                path=file,
                columns=columns,
                rejects_path=rejects_path,
                checkpoint_path=checkpoint,
                now=utcnow,
                batch_size=batch_size,
                resume=not restart,
                workers=workers,
                on_progress=lambda n: progress.advance(task, n),
            )
        note = f"; rejects in {rejects_path}" if summary.rejected else ""
        return f"{summary}{note}"

    typer.echo(_with_stores(settings, work))


@import_app.command("opportunities")
def import_opportunities(
    file: Annotated[Path, typer.Argument(help="CSV file (UTF-8).", exists=True, dir_okay=False)],
    org: Annotated[str, typer.Option("--org", help="Organization id the pipeline belongs to.")],
    preset: Annotated[
        str,
        typer.Option(
            "--format", "--mapping", help=f"Column preset: {', '.join(OPPORTUNITY_PRESETS)}."
        ),
    ] = "tandem",
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="TARGET=COLUMN[,COLUMN]; repeatable, overrides the preset."),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(help="ISO 4217 code for rows without one (single-currency exports)."),
    ] = None,
    blank_amount: Annotated[
        str | None,
        typer.Option(help="Amount for rows whose amount is blank (default: reject such rows)."),
    ] = None,
    date_format: Annotated[
        list[str] | None,
        typer.Option(
            "--date-format",
            help="strptime format tried before ISO 8601, e.g. '%m/%d/%Y'; repeatable.",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per write.", min=1, max=5_000)] = 5_000,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go. [default: FILE.rejects.csv]")
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore an earlier interrupted run's progress.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Stream a CRM opportunity export into tandem: batched, resumable, with a rejects file.
    Opportunities that close settle the deal registrations on them."""
    if preset not in OPPORTUNITY_PRESETS:
        raise _fail(f"unknown --format {preset!r}: use one of {', '.join(OPPORTUNITY_PRESETS)}")
    settings = _settings(store)
    try:
        columns = with_options(
            OPPORTUNITY_PRESETS[preset],
            mapping or [],
            default_currency=currency,
            blank_amount=blank_amount,
            date_formats=date_format or [],
        )
    except TandemError as error:
        raise _fail(error.message) from None
    rejects_path = rejects or file.with_name(file.name + ".rejects.csv")
    checkpoint = rejects_path.with_name(rejects_path.name + ".checkpoint")

    async def work(stores: Stores) -> str:
        with rows_progress() as progress:
            task = progress.add_task(f"importing {file.name}", total=None)
            summary = await import_opportunities_csv(
                stores.graph,
                org_id=org,
                path=file,
                columns=columns,
                rejects_path=rejects_path,
                checkpoint_path=checkpoint,
                now=utcnow,
                batch_size=batch_size,
                resume=not restart,
                on_progress=lambda n: progress.advance(task, n),
            )
        note = f"; rejects in {rejects_path}" if summary.rejected else ""
        return f"{summary}{note}"

    typer.echo(_with_stores(settings, work))


@import_app.command("touches")
def import_touches(
    file: Annotated[Path, typer.Argument(help="CSV file (UTF-8).", exists=True, dir_okay=False)],
    org: Annotated[str, typer.Option("--org", help="Organization id recording the touches.")],
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go. [default: FILE.rejects.csv]")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Record touches from a CSV file (the rows recordTouches takes), idempotently."""
    settings = _settings(store)
    rejects_path = rejects or file.with_name(file.name + ".rejects.csv")

    async def work(stores: Stores) -> str:
        summary = await import_touches_csv(
            stores.graph,
            stores.identity,
            org_id=org,
            path=file,
            rejects_path=rejects_path,
            now=utcnow,
        )
        note = f"; rejects in {rejects_path}" if summary.rejected else ""
        return f"{summary}{note}"

    typer.echo(_with_stores(settings, work))


@keys_app.command("rotate")
def keys_rotate(
    batch_size: Annotated[int, typer.Option(help="Keys per batch.", min=1)] = 10_000,
    store: StoreOption = None,
) -> None:
    """Re-wrap every stored key hash to the keyring's next version (resumable)."""
    settings = _settings(store)

    async def work(stores: Stores) -> str:
        with rows_progress() as progress:
            task = progress.add_task("re-wrapping keys", total=None)
            report = await rotate(
                stores.graph,
                settings.keyring,
                batch_size=batch_size,
                on_batch=lambda n: progress.advance(task, n),
            )
        if report is None:
            return f"already at the newest key version ({settings.keyring.newest})"
        return (
            f"key version {report.from_version} -> {report.to_version}: "
            f"{report.rewrapped} keys re-wrapped"
        )

    typer.echo(_with_stores(settings, work))


@keys_app.command("generate")
def keys_generate(
    version: Annotated[int, typer.Option(help="The version the new secret is for.", min=1)],
) -> None:
    """Print a new secret as a VERSION:HEX line, to append to the secret file."""
    typer.echo(f"{version}:{secrets.token_hex(32)}")
