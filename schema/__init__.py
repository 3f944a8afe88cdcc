"""The GraphQL schema: strawberry types, inputs, the per-request Context."""
