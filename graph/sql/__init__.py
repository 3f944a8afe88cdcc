"""The SQL adapter: the graph store over SQLAlchemy (SQLite embedded, PostgreSQL).

coltypes.py    column types shared by tables and migrations (UTC datetimes, keys, money)
tables.py      the ORM tables and the metadata (with its naming convention)
engine.py      engine setup per dialect (SQLite pragmas and locking, asyncpg timeouts)
errors.py      driver exceptions -> graph.errors, in one place
migrate.py     `alembic upgrade head`, programmatically; scripts in migrations/
deals.py       SqlDeals, the DealStore half (pipeline, programs, registrations)
store.py       SqlStore, the GraphStore implementation (inherits SqlDeals)
"""

from graph.sql.store import SqlStore

__all__ = ["SqlStore"]
