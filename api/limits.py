"""Safety limits on every GraphQL operation, checked before anything runs.

One walk over the parsed document measures depth, aliases and cost; the parser itself
stops at the token limit. Each violation is a GraphQL error with `extensions.code`
QUERY_TOO_COMPLEX and a message naming the limit and the measured value. Introspection
can be switched off (production's default): `__schema` and `__type` are then refused with
FORBIDDEN (`__typename` stays allowed).

Cost model (docs/api.md): every field costs 1; a field with a selection set costs
1 + m x (the cost of its selection set), where m is the field's page size when it is a
connection (its `first`/`last` argument, literal or variable, else the default page size,
capped at the maximum) and 1 otherwise. So `partnerships(first: 100) { edges { node {
partner { accounts(first: 100) { ... } } } } }` costs about 100 x 100 x the leaf count.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.type import GraphQLInterfaceType, GraphQLObjectType
from strawberry.extensions import SchemaExtension

from graph.errors import ConfigurationError
from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-operation and per-request limits (TANDEM_* settings, see README)."""

    max_depth: int = 12
    max_tokens: int = 2_000
    max_aliases: int = 30
    max_cost: int = 50_000
    max_body_bytes: int = 4_000_000
    timeout_s: float = 15.0
    introspection: bool = True
    persisted_only: bool = False
    persisted: Mapping[str, str | None] = field(default_factory=dict)  # sha256 -> query


def too_complex(message: str, *, limit: int, value: int) -> GraphQLError:
    return GraphQLError(message, extensions={"code": TOO_COMPLEX, "limit": limit, "value": value})


@dataclass(slots=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


class _Walker:
    """Measures a document against a schema; robust to documents that do not validate
    (unknown fields and fragments count as plain fields; fragment cycles stop)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        depth: int,
        seen: frozenset[str],
    ) -> tuple[int, int]:
        """(cost, max depth) of a selection set whose fields are at `depth`."""
        cost = 0
        deepest = depth - 1
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                if node.name.value.startswith("__"):
                    continue  # introspection and __typename: free, and not nested data
                field_cost, field_depth = self.field(node, parent, depth, seen)
                cost += field_cost
                deepest = max(deepest, field_depth)
            elif isinstance(node, InlineFragmentNode):
                target = parent
                if node.type_condition is not None:
                    target = self.schema.get_type(node.type_condition.name.value)
                sub_cost, sub_depth = self.selection(node.selection_set, target, depth, seen)
                cost += sub_cost
                deepest = max(deepest, sub_depth)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                sub_cost, sub_depth = self.selection(
                    fragment.selection_set, target, depth, seen | {name}
                )
                cost += sub_cost
                deepest = max(deepest, sub_depth)
        return cost, deepest

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        depth: int,
        seen: frozenset[str],
    ) -> tuple[int, int]:
        definition: GraphQLField | None = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        if node.selection_set is None:
            return 1, depth
        child_type = get_named_type(definition.type) if definition is not None else None
        sub_cost, sub_depth = self.selection(node.selection_set, child_type, depth + 1, seen)
        return 1 + self.multiplier(node, definition) * sub_cost, sub_depth

    def multiplier(self, node: FieldNode, definition: GraphQLField | None) -> int:
        if definition is None:
            return 1
        if "first" in definition.args or "last" in definition.args:
            size: int | None = None
            for argument in node.arguments or ():
                if argument.name.value in ("first", "last"):
                    value = self.int_value(argument.value)
                    if value is not None:
                        size = max(size or 0, value)
            return min(max(size if size is not None else DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
        if "ids" in definition.args:  # nodes(ids: [...]): one lookup per id
            for argument in node.arguments or ():
                if argument.name.value == "ids":
                    value_node = argument.value
                    if isinstance(value_node, ListValueNode):
                        return max(len(value_node.values), 1)
                    if isinstance(value_node, VariableNode):
                        ids = self.variables.get(value_node.name.value)
                        if isinstance(ids, list):
                            return max(len(ids), 1)
        return 1

    def int_value(self, value_node: object) -> int | None:
        if isinstance(value_node, IntValueNode):
            try:
                return int(value_node.value)
            except ValueError:
                return None
        if isinstance(value_node, VariableNode):
            value = self.variables.get(value_node.name.value)
            return value if isinstance(value, int) and not isinstance(value, bool) else None
        return None


def count_aliases(selection_set: SelectionSetNode | None) -> int:
    if selection_set is None:
        return 0
    total = 0
    for node in selection_set.selections:
        if isinstance(node, FieldNode) and node.alias is not None:
            total += 1
        total += count_aliases(getattr(node, "selection_set", None))
    return total


def uses_introspection(selection_set: SelectionSetNode | None) -> bool:
    if selection_set is None:
        return False
    for node in selection_set.selections:
        if isinstance(node, FieldNode) and node.name.value in INTROSPECTION_FIELDS:
            return True
        if uses_introspection(getattr(node, "selection_set", None)):
            return True
    return False


def check_document(
    schema: GraphQLSchema,
    document: Any,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    limits: Limits,
) -> GraphQLError | None:
    """The first limit the document breaks, or None."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    operations: list[OperationDefinitionNode] = []
    aliases = 0
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments[definition.name.value] = definition
        elif isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
        aliases += count_aliases(getattr(definition, "selection_set", None))
        if not limits.introspection and uses_introspection(
            getattr(definition, "selection_set", None)
        ):
            return GraphQLError(
                "introspection is disabled on this server", extensions={"code": "FORBIDDEN"}
            )
    if aliases > limits.max_aliases:
        return too_complex(
            f"the document uses {aliases} aliases; at most {limits.max_aliases} are allowed",
            limit=limits.max_aliases,
            value=aliases,
        )
    walker = _Walker(schema, fragments, variables or {})
    for operation in operations:
        if operation_name is not None and (
            operation.name is None or operation.name.value != operation_name
        ):
            continue
        root = schema.get_root_type(operation.operation)
        cost, depth = walker.selection(operation.selection_set, root, 1, frozenset())
        if depth > limits.max_depth:
            return too_complex(
                f"the operation is {depth} levels deep; at most {limits.max_depth} are allowed",
                limit=limits.max_depth,
                value=depth,
            )
        if cost > limits.max_cost:
            return too_complex(
                f"the operation's estimated cost is {cost}; at most {limits.max_cost} is "
                "allowed (a connection's first/last multiplies the cost of what it selects)",
                limit=limits.max_cost,
                value=cost,
            )
    return None


def limits_of(context: object) -> Limits:
    """The limits of the app serving this operation (its settings, in the request's
    state); the defaults for operations run outside an app."""
    request = getattr(context, "request", None)
    state = getattr(request, "state", None)
    settings = getattr(state, "settings", None) if state is not None else None
    limits = getattr(settings, "limits", None)
    return limits if isinstance(limits, Limits) else Limits()


class SafetyLimits(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        limits = limits_of(self.execution_context.context)
        # The parser gives up at this many tokens (strawberry's MaxTokensLimiter does the
        # same); the syntax error it raises is tagged below.
        self.execution_context.parse_options["max_tokens"] = limits.max_tokens
        yield
        for error in self.execution_context.pre_execution_errors or []:
            if error.original_error is None and "tokens. Parsing aborted" in error.message:
                error.message = (
                    f"the document has more than {limits.max_tokens} tokens; at most "
                    f"{limits.max_tokens} are allowed"
                )
                error.extensions = {"code": TOO_COMPLEX}

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            error = check_document(
                context.schema._schema,
                document,
                context.variables,
                context.operation_name,
                limits_of(context.context),
            )
            if error is not None:
                # Errors set before validation runs refuse the operation without
                # spending validation on it.
                context.pre_execution_errors = [error]
        yield


# -- persisted queries ---------------------------------------------------------------


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def load_persisted(path: Path) -> dict[str, str | None]:
    """An allow-list of operations: a text file of sha256 hex hashes (one a line, `#`
    comments), a JSON object {hash: query}, or an Apollo persisted query manifest
    ({"operations": [{"id": hash, "body": query}, ...]}). Queries given in the file can
    be sent by hash alone; hashes without a query need the query text with them."""
    if not path.is_file():
        raise ConfigurationError(f"TANDEM_PERSISTED_QUERIES {path} does not exist")
    text = path.read_text()
    entries: dict[str, str | None] = {}
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ConfigurationError(f"TANDEM_PERSISTED_QUERIES {path}: {error}") from None
        operations = data.get("operations") if isinstance(data, dict) else None
        pairs: list[tuple[object, object]]
        if isinstance(operations, list):
            pairs = [(op.get("id"), op.get("body")) for op in operations if isinstance(op, dict)]
        elif isinstance(data, dict):
            pairs = list(data.items())
        else:
            pairs = []
        for key, body in pairs:
            entries[_hash(key, path)] = _body(key, body, path)
    else:
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                entries[_hash(line, path)] = None
    return entries


def _hash(value: object, path: Path) -> str:
    text = str(value).strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise ConfigurationError(
            f"TANDEM_PERSISTED_QUERIES {path}: {value!r} is not a sha256 hex hash"
        )
    return text


def _body(key: object, body: object, path: Path) -> str | None:
    if body is None:
        return None
    if not isinstance(body, str) or sha256_hex(body) != str(key).strip().lower():
        raise ConfigurationError(
            f"TANDEM_PERSISTED_QUERIES {path}: the query of {key} does not hash to it"
        )
    return body


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def resolve_persisted(
    query: str | None, extensions: Mapping[str, Any] | None, limits: Limits
) -> str | None:
    """The query text to run, after the persisted-query rules; PersistedQueryError when
    the request is refused. Apollo's shape: extensions.persistedQuery.sha256Hash."""
    persisted = (extensions or {}).get("persistedQuery")
    wanted: str | None = None
    if persisted is not None:
        raw = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(raw, str):
            raise PersistedQueryError(
                "extensions.persistedQuery.sha256Hash must be a string", "BAD_USER_INPUT"
            )
        wanted = raw.lower()
    if wanted is None:
        if not limits.persisted_only or query is None:
            return query
        if sha256_hex(query) in limits.persisted:
            return query
        raise PersistedQueryError(
            "this server only runs persisted queries; the query is not on its allow-list",
            "PERSISTED_QUERY_NOT_ALLOWED",
        )
    if query is not None:
        if sha256_hex(query) != wanted:
            raise PersistedQueryError(
                "provided sha256Hash does not match the query", "BAD_USER_INPUT"
            )
        if limits.persisted_only and wanted not in limits.persisted:
            raise PersistedQueryError(
                "this server only runs persisted queries; the query is not on its allow-list",
                "PERSISTED_QUERY_NOT_ALLOWED",
            )
        return query
    stored = limits.persisted.get(wanted)
    if stored is None:
        # Apollo clients answer this one by sending the query text along.
        raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
    return stored
