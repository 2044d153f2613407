#!/usr/bin/env node
// Lists every function, method and arrow in src/ over 80 lines and every src/ file over 400 lines
// (docs/architecture.md: small files, short functions); the error catalogue is a data table, exempt.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const MAX_FUNCTION = 80;
const MAX_FILE = 400;
const EXEMPT = new Set(['src/errors/codes.ts']);
const root = new URL('..', import.meta.url).pathname;

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith('.d.ts')) yield p;
  }
}

function nameOf(node, sf) {
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(sf);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(sf);
  if (parent && ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  return '<anonymous>';
}

const found = [];
for (const file of files(join(root, 'src'))) {
  const rel = relative(root, file);
  if (EXEMPT.has(rel)) continue;
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE) found.push(`${rel}: file of ${lines} lines (at most ${MAX_FILE})`);
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const n = end - start + 1;
      if (n > MAX_FUNCTION)
        found.push(`${rel}:${start + 1}: ${nameOf(node, sf)} of ${n} lines (at most ${MAX_FUNCTION})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
for (const line of found) console.log(line);
if (found.length > 0) process.exitCode = 1;
