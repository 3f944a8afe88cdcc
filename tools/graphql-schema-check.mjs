#!/usr/bin/env node
// Compares two SDL files with @graphql-inspector/core and prints every change, breaking
// ones first. Exit status 1 on breaking changes only with --fail-on-breaking.
//
//   node tools/graphql-schema-check.mjs OLD.graphql NEW.graphql [--fail-on-breaking]
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { diff, CriticalityLevel } from '@graphql-inspector/core';

const args = process.argv.slice(2);
const failOnBreaking = args.includes('--fail-on-breaking');
const [oldPath, newPath] = args.filter((a) => !a.startsWith('--'));
if (!oldPath || !newPath) {
  console.error('usage: graphql-schema-check.mjs OLD.graphql NEW.graphql [--fail-on-breaking]');
  process.exit(2);
}
const load = (path) => buildSchema(readFileSync(path, 'utf8'), { assumeValidSDL: false });
const changes = await diff(load(oldPath), load(newPath));
const order = [CriticalityLevel.Breaking, CriticalityLevel.Dangerous, CriticalityLevel.NonBreaking];
changes.sort((a, b) => order.indexOf(a.criticality.level) - order.indexOf(b.criticality.level));
const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
for (const change of changes) {
  const level = change.criticality.level.replace('_', '-').toLowerCase();
  console.log(`${level.padEnd(12)} ${change.path ?? ''}: ${change.message}`);
}
console.log(
  `schema diff: ${changes.length} changes, ${breaking.length} breaking` +
    (breaking.length && !failOnBreaking ? ' (reported, not failing: see docs/api.md)' : ''),
);
process.exit(breaking.length && failOnBreaking ? 1 : 0);
