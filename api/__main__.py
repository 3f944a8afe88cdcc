"""`python -m api` is the same as the `tandem` command."""

from api.cli import app

app(prog_name="tandem")
