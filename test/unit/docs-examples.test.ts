/**
 * Every `optstudy` example in the README and docs/ is a study a reader may copy: each must
 * pass `optstudy check` without errors, as the user would run it (from a folder beside the
 * samples, so relative data paths resolve).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

function examples(): { file: string; line: number; text: string }[] {
  const files = ['README.md', ...(existsSync(path.join(ROOT, 'docs')) ? readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`) : [])];
  const out: { file: string; line: number; text: string }[] = [];
  for (const file of files) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/```optstudy\n([\s\S]*?)```/g)) {
      out.push({ file, line: text.slice(0, m.index).split('\n').length + 1, text: m[1]! });
    }
  }
  return out;
}

test('every optstudy example in the README and docs passes optstudy check', () => {
  const all = examples();
  assert.ok(all.length >= 5, `found only ${all.length} examples`);
  const failures: string[] = [];
  for (const ex of all) {
    // Beside the samples: `data "data/..."` and `module "strategies/..."` resolve as in the docs.
    const file = path.join(ROOT, 'samples', `.docs-example-${process.pid}.optstudy`);
    writeFileSync(file, ex.text);
    try {
      const r = spawnSync(process.execPath, [CLI, 'check', file, '--json'], { encoding: 'utf8' });
      const errors = (JSON.parse(r.stdout).diagnostics as { severity: string; message: string; range: { start: { line: number } } }[]).filter((d) => d.severity === 'error');
      for (const d of errors) failures.push(`${ex.file}:${ex.line + d.range.start.line}: ${d.message}`);
    } finally {
      require('node:fs').rmSync(file, { force: true });
    }
  }
  assert.deepEqual(failures, []);
});
