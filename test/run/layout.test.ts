/**
 * The run path's layout (#20): server/run knows executors only through server/executor's
 * interface — it imports none of server/distributed, server/strategies or server/host — and
 * nothing imports server/run but its callers (the CLI, the run host, reports, the analysis'
 * trial re-runs); server/executor imports neither server/run nor the executors built on it.
 * Read from the sources' import lines.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/run-fixtures';

const ROOT = repoRoot();

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The folders (relative to the repository) a source file imports from. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+['"](\.[^'"]+)['"]/g)) out.push(path.relative(ROOT, path.resolve(path.dirname(file), m[1]!)));
  for (const m of text.matchAll(/(?:import|require)\(\s*['"](\.[^'"]+)['"]\s*\)/g)) out.push(path.relative(ROOT, path.resolve(path.dirname(file), m[1]!)));
  return out;
}

const under = (p: string, folder: string): boolean => p === folder || p.startsWith(folder + path.sep);

test('server/run imports no executor but through server/executor, and only its callers import it', () => {
  const run = tsFiles(path.join(ROOT, 'server', 'run'));
  assert.ok(run.length >= 8, 'the run path is there');
  for (const f of run)
    for (const i of imports(f))
      for (const banned of ['server/distributed', 'server/strategies', 'server/host', 'server/cli'])
        assert.ok(!under(i, banned), `${path.relative(ROOT, f)} imports ${i}`);
  const callers = ['server/run', 'server/cli', 'server/host', 'server/report', 'server/analysis'];
  for (const f of tsFiles(path.join(ROOT, 'server'))) {
    const rel = path.relative(ROOT, f);
    if (callers.some((c) => under(rel, c))) continue;
    for (const i of imports(f)) assert.ok(!under(i, 'server/run'), `${rel} imports the run path (${i})`);
  }
  for (const f of tsFiles(path.join(ROOT, 'server', 'executor')))
    for (const i of imports(f))
      for (const banned of ['server/run', 'server/distributed', 'server/strategies', 'server/host'])
        assert.ok(!under(i, banned), `${path.relative(ROOT, f)} imports ${i}`);
});
