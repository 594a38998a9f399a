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
import { IssueCodes } from '../../grammar/issue-codes';

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

test('every diagnostic code has its section in docs/diagnostics.md (the editor links each code there)', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'diagnostics.md'), 'utf8');
  const sections = new Set([...doc.matchAll(/^## ([a-z0-9-]+)$/gm)].map((m) => m[1]));
  // Two codes come from the server rather than the grammar's table.
  const codes = [...Object.values(IssueCodes), 'too-many-problems', 'internal-error'];
  assert.deepEqual(codes.filter((c) => !sections.has(c)), []);
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(text: string): Set<string> {
  const slug = (h: string): string => h.trim().toLowerCase().replace(/<[^>]+>/g, '').replace(/[`*_]/g, '').replace(/[^\p{L}\p{N} -]/gu, '').replace(/ /g, '-');
  return new Set([...[...text.matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!)), ...[...text.matchAll(/<a id="([^"]+)"/g)].map((m) => m[1]!)]);
}

test('every relative link of the README, docs/ and the samples’ READMEs reaches a file (and its heading)', () => {
  const files = ['README.md', 'samples/README.md', 'samples/data/README.md', 'samples/backtrader/README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const broken: string[] = [];
  for (const file of files.filter((f) => existsSync(path.join(ROOT, f)))) {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!;
      if (/^[a-z]+:/.test(link)) continue;
      const [target, anchor] = link.split('#');
      const to = target ? path.join(path.dirname(path.join(ROOT, file)), target) : path.join(ROOT, file);
      if (!existsSync(to)) broken.push(`${file}: ${link} (no such file)`);
      else if (anchor && to.endsWith('.md') && !anchorsOf(readFileSync(to, 'utf8')).has(anchor)) broken.push(`${file}: ${link} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});
