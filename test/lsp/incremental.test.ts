// The incremental analysis (one study at a time, cached by its text) must equal a full
// analysis of the same text, edit after edit. A pure-function test: no server needed.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../../grammar/index';
import { IncrementalAnalyzer } from '../../server/lsp/incremental';
import { SAMPLES, sampleFiles } from '../support/lsp-session';

const norm = (x: unknown) => JSON.stringify(x, (_k, v) => (v instanceof Map ? [...v.entries()] : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
const key = (d: unknown) => norm(d);

function assertSame(text: string, inc: IncrementalAnalyzer, label: string): void {
  const full = analyze(text);
  const got = inc.analyze(text);
  assert.deepEqual(got.diagnostics.map(key).sort(), full.diagnostics.map(key).sort(), `${label}: diagnostics`);
  assert.equal(norm(got.studies), norm(full.studies), `${label}: studies`);
  assert.equal(norm(got.ast.items), norm(full.ast.items), `${label}: syntax tree`);
  assert.equal(norm(got.strategies), norm(full.strategies), `${label}: strategies`);
}

const all = sampleFiles().map((f) => fs.readFileSync(path.join(SAMPLES, f), 'utf8'));
// All samples in one file (renaming the studies and strategies so names stay unique).
const combined = all.map((t, i) => t.replace(/study "([^"]*)"/g, `study "$1 #${i}"`).replace(/\bsma_py\b/g, `sma_py${i}`)).join('\n');

test('incremental analysis equals a full analysis on the samples, alone and combined', () => {
  for (const t of [...all, combined]) assertSame(t, new IncrementalAnalyzer(), t.slice(0, 40));
});

test('incremental analysis stays equal through a sequence of edits, and reparses only the edited study', () => {
  const inc = new IncrementalAnalyzer();
  let text = combined;
  assertSame(text, inc, 'start');
  const lines = text.split('\n');
  let seed = 3;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let k = 0; k < 60; k++) {
    const m = text.split('\n');
    const i = rnd(m.length);
    switch (k % 4) {
      case 0: m[i] = m[i].replace(/\d/, String(rnd(10))); break;
      case 1: m[i] = m[i].replace('sharpe', 'sharp'); break;
      case 2: m.splice(i, 1); break; // may unbalance braces: the full fallback
      case 3: m.splice(i, 0, lines[rnd(lines.length)]); break; // may duplicate a study name: the full fallback
    }
    text = m.join('\n');
    assertSame(text, inc, `edit ${k}`);
  }
  // A one-character edit inside one study of a clean document reparses that study only.
  const clean = new IncrementalAnalyzer();
  clean.analyze(combined);
  const edited = combined.replace('cash 100000', 'cash 100001');
  clean.analyze(edited);
  assert.equal(clean.lastMode, 'incremental');
  assert.equal(clean.lastParsedChunks, 1);
});
