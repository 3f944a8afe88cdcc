"""The graph store: a port (`GraphStore`) and its adapters for Neo4j and SQL."""
