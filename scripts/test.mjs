// Runs every test suite with node's test runner in one invocation, so there is one summary.
// `node scripts/test.mjs` runs all suites; `node scripts/test.mjs e2e webview` runs some.
// Suites are folders under out/test (built by esbuild.mjs); only *.test.js files run.
//
// Before any test: the system tools the chosen suites drive (Chromium, redis-server, python3,
// code-server) are checked and, where this machine allows, installed (scripts/test-tools.mjs);
// otherwise the run stops at once saying what to install. The tests get a temporary folder of
// their own (TMPDIR), and a folder or file a test left there is reported and fails the run.
// With OPTSTUDY_FAIL_ON_SKIP=1 (set by .ci/run) a skipped test fails the run too: CI has every
// tool, so a skip there can only mean a broken setup.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ensureTestTools } from './test-tools.mjs';

const ALL = ['unit', 'engine', 'data', 'lsp', 'run', 'analysis', 'strategies', 'redis', 'webview', 'e2e'];
const asked = process.argv.slice(2);
const names = (asked.length ? asked : ALL).filter((s) => existsSync(`out/test/${s}`));
if (names.length === 0) {
  console.error('no test suites found under out/test: run `npm run build` first');
  process.exit(1);
}
const problem = ensureTestTools(names);
if (problem) {
  console.error(`\n${problem}\n`);
  process.exit(1);
}

const tmp = mkdtempSync(path.join(tmpdir(), 'optstudy-tests-'));
const summaryFile = path.join(tmp, '.summary.json');
// The spec reporter for people, then one closing `N passed, N failed` line (summary-reporter.mjs).
const summary = new URL('./summary-reporter.mjs', import.meta.url).pathname;
const args = ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${summary}`, '--test-reporter-destination=stdout', ...names.map((s) => `out/test/${s}`)];
if (process.env.CI) args.splice(1, 0, '--test-concurrency=1');
const r = spawnSync(process.execPath, args, {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: tmp, OPTSTUDY_TEST_SUMMARY: summaryFile },
});
let status = r.status ?? 1;

const skipped = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')).skipped : [];
if (process.env.OPTSTUDY_FAIL_ON_SKIP === '1' && skipped.length > 0) {
  console.error(`\n${skipped.length} test(s) skipped, which OPTSTUDY_FAIL_ON_SKIP=1 turns into a failure:`);
  for (const s of skipped) console.error(`  - ${s.name}: ${s.reason}`);
  status ||= 1;
}
const left = readdirSync(tmp).filter((f) => f !== '.summary.json');
if (left.length > 0) {
  console.error(`\nthe tests left ${left.length} item(s) in their temporary folder (a test must remove what it creates): ${left.slice(0, 20).join(', ')}`);
  status ||= 1;
}
rmSync(tmp, { recursive: true, force: true });
process.exit(status);
