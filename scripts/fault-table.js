#!/usr/bin/env node
// Prints the fault suite's figures (one JSON object per line, written by test/fault/ to the file named by
// VMSHEPHERD_FAULT_FIGURES) as a table, and the totals that must be zero.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const rows = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const columns = [
  'runtime',
  'fault',
  'overCeiling',
  'lost',
  'afterLeaseLoss',
  'crashes',
  'convergedMs',
  'rejoinedMs',
];
const header = [
  'runtime',
  'fault',
  'over count+surge',
  'VMs lost',
  'acts after lease loss',
  'crashes',
  'count reached (ms from fault)',
  'b works again (ms from heal)',
];
const cells = rows.map((r) => columns.map((c) => String(r[c])));
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i].length)));
const line = (row) => row.map((v, i) => v.padEnd(widths[i])).join(' | ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const row of cells) console.log(line(row));
const total = (c) => rows.reduce((a, r) => a + r[c], 0);
console.log(
  `fault suite: ${rows.length} faults; max VMs over count+surge ${Math.max(0, ...rows.map((r) => r.overCeiling))}, ` +
    `VMs lost ${total('lost')}, actions after lease loss ${total('afterLeaseLoss')}, crashes ${total('crashes')}`,
);
