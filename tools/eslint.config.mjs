// Relay lint of the committed SDL (tools/graphql-schema-check.mjs runs it with the path).
import graphql from '@graphql-eslint/eslint-plugin';

const schema = process.env.TANDEM_SCHEMA_FILE || 'schema.graphql';

export default [
  {
    files: ['**/*.graphql'],
    languageOptions: {
      parser: graphql.parser,
      parserOptions: { graphQLConfig: { schema } },
    },
    plugins: { '@graphql-eslint': graphql },
    rules: {
      // Relay's Cursor Connections spec and Global Object Identification.
      '@graphql-eslint/relay-connection-types': 'error',
      // Every edge's node implements Node: computed rows too (docs/api.md).
      '@graphql-eslint/relay-edge-types': [
        'error',
        { withEdgeSuffix: true, shouldImplementNode: true, listTypeCanWrapOnlyEdgeType: false },
      ],
      '@graphql-eslint/relay-page-info': 'error',
      // Every connection pages both ways: first/after and last/before (docs/api.md).
      '@graphql-eslint/relay-arguments': ['error', { includeBoth: true }],
    },
  },
];
