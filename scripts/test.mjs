// Runs every test suite with node's test runner in one invocation, so there is one summary.
// `node scripts/test.mjs` runs all suites; `node scripts/test.mjs e2e webview` runs some.
// Suites are folders under out/test (built by esbuild.mjs); only *.test.js files run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const ALL = ['unit', 'engine', 'lsp', 'run', 'analysis', 'strategies', 'redis', 'webview', 'e2e'];
const asked = process.argv.slice(2);
const suites = (asked.length ? asked : ALL).map((s) => `out/test/${s}`).filter((d) => existsSync(d));
if (suites.length === 0) {
  console.error('no test suites found under out/test: run `npm run build` first');
  process.exit(1);
}
// The spec reporter for people, then one closing `N passed, N failed` line (summary-reporter.mjs).
const summary = new URL('./summary-reporter.mjs', import.meta.url).pathname;
const args = ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${summary}`, '--test-reporter-destination=stdout', ...suites];
if (process.env.CI) args.splice(1, 0, '--test-concurrency=1');
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
