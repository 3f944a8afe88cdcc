"""Parsed and validated GraphQL documents, kept for the next request with the same text.

Clients send the same few operations over and over, and parsing plus validating a
document cost about a quarter of a small query's server time (bench/http_api.py,
docs/benchmarks.md). Only documents that parsed and passed validation are kept, so every
error is still produced fresh for its own request (the error extensions rewrite error
objects in place, which a shared cached error would not survive). The safety limits are
not cached: SafetyLimits checks each request (its variables set page sizes, hence cost)
before this extension may skip validation. Validation depends only on the schema, the
document and the rules, all part of the key, with the token limit the parser ran under.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

CAPACITY = 256  # distinct operations a process keeps; the least recently used go first

_Key = tuple[object, str, tuple[object, ...], tuple[tuple[str, Any], ...]]
_known: OrderedDict[_Key, DocumentNode] = OrderedDict()


def _key(schema: object, query: str, rules: Any, parse_options: Mapping[str, Any]) -> _Key:
    return (schema, query, tuple(rules), tuple(sorted(parse_options.items())))


class DocumentCache(SchemaExtension):
    """Listed after SafetyLimits, whose parse options (the token limit) and refusals it
    must see first."""

    _hit: bool = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            key = _key(
                context.schema, context.query, context.validation_rules, context.parse_options
            )
            document = _known.get(key)
            if document is not None:
                _known.move_to_end(key)
                context.graphql_document = document  # strawberry then skips its parser
                self._hit = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self._hit and context.pre_execution_errors is None:
            context.pre_execution_errors = []  # valid already: strawberry skips validation
        yield
        if not self._hit and context.pre_execution_errors == [] and context.query:
            document = context.graphql_document
            if document is not None:
                key = _key(
                    context.schema, context.query, context.validation_rules, context.parse_options
                )
                _known[key] = document
                while len(_known) > CAPACITY:
                    _known.popitem(last=False)
