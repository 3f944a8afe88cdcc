"""The Neo4j adapter of the GraphStore port (official async driver, Community 5.26+)."""

from graph.neo4j.store import Neo4jStore

__all__ = ["Neo4jStore"]
