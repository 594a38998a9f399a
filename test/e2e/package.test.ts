/**
 * The installable extension: `npm run package`'s script builds a .vsix that holds the production
 * bundles, the grammar, the docs and the run-time npm packages the bundles load — nothing else —
 * and whose CLI runs a real study from the unpacked package alone, with no repository around it.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from '../support/e2e-tools';
import { packageVsix } from '../support/e2e-session';
import { listZip, readZipEntry } from '../support/e2e-vsix';
import { backtraderMissing, fixture } from '../strategies/backtrader-env';

/** Bare module names a bundle loads with require() (Node built-ins and `vscode` excluded). */
function bareRequires(js: string): Set<string> {
  const out = new Set<string>();
  for (const m of js.matchAll(/\brequire(?:\.resolve)?\(\s*["']([^"'.\/][^"']*)["']\s*\)/g)) {
    const spec = m[1];
    if (spec.startsWith('node:') || spec === 'vscode') continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (builtinModules.includes(name)) continue;
    out.add(name);
  }
  return out;
}

describe('npm run package', () => {
  let tmp: string;
  let vsix: string;
  let names: string[];
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'optstudy-vsix-'));
    vsix = packageVsix(path.join(tmp, 'optstudy.vsix'));
    names = listZip(vsix).map((e) => e.name);
  }, { timeout: 180_000 });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('ships only bundles, grammar, docs and run-time packages: no sources, tests or maps', () => {
    const allowed = [
      /^extension\.vsixmanifest$/,
      /^\[Content_Types\]\.xml$/,
      /^extension\/(package\.json|readme\.md|changelog\.md|LICENSE\.txt)$/,
      /^extension\/dist\/[^/]+\.(js|css)$/,
      /^extension\/dist\/backtrader\/optstudy_bridge\.py$/, // the backtrader bridge (Python, run by backtrader strategies)
      /^extension\/grammar\/[^/]+\.json$/,
      /^extension\/node_modules\//,
      /^extension\/.+\.(png|jpe?g|gif)$/, // images the README shows
      /^extension\/docs\/[^/]+\.md$/, // the reference pages the README links to
    ];
    const stray = names.filter((n) => !allowed.some((re) => re.test(n)));
    assert.deepEqual(stray, [], 'files that are not part of the product');
    const forbidden = names.filter((n) => /\.(map|ts|mts|cts|tsbuildinfo)$/.test(n) ||
      (n.startsWith('extension/node_modules/') && /\/(test|tests|__tests__|docs?|benchmarks?)\//.test(n.replace(/^extension\/node_modules\/(@[^/]+\/)?[^/]+\//, '/'))));
    assert.deepEqual(forbidden, [], 'TypeScript sources, maps, tests or docs inside the package');
    // Images only as the README shows them.
    const readme = String(readZipEntry(vsix, 'extension/readme.md'));
    const images = names.filter((n) => !n.startsWith('extension/node_modules/') && /\.(png|jpe?g|gif)$/i.test(n));
    const unshown = images.filter((n) => !readme.includes(n.slice('extension/'.length)));
    assert.deepEqual(unshown, [], 'images the README does not show');
    for (const dir of ['client', 'server', 'protocol', 'webview', 'test', 'samples', 'scripts', 'out']) {
      assert.ok(!names.some((n) => n.startsWith(`extension/${dir}/`)), `${dir}/ must not be packaged`);
    }
  });

  test('has the manifest\'s entry point, the grammar it contributes, and clean production bundles', () => {
    const main = path.posix.normalize(manifest.main).replace(/^\.\//, '');
    assert.ok(names.includes(`extension/${main}`), `main ${main} is packaged`);
    assert.ok(names.includes('extension/dist/server.js'), 'the language server is packaged');
    assert.ok(names.includes('extension/dist/backtrader/optstudy_bridge.py'), 'the backtrader bridge is packaged');
    for (const g of manifest.contributes.grammars ?? []) assert.ok(names.includes(`extension/${path.posix.normalize(g.path)}`), `grammar ${g.path}`);
    for (const l of manifest.contributes.languages ?? []) {
      if (l.configuration) assert.ok(names.includes(`extension/${path.posix.normalize(l.configuration)}`), `language configuration ${l.configuration}`);
    }
    const shipped = JSON.parse(String(readZipEntry(vsix, 'extension/package.json')));
    assert.equal(shipped.devDependencies, undefined, 'no devDependencies in the shipped manifest');
    assert.equal(shipped.scripts, undefined, 'no scripts in the shipped manifest');
    assert.deepEqual(shipped.contributes, manifest.contributes, 'contributions are shipped unchanged');
    for (const n of names.filter((x) => /^extension\/dist\/.*\.js$/.test(x))) {
      assert.doesNotMatch(String(readZipEntry(vsix, n)), /sourceMappingURL=/, `${n} points at no source map`);
    }
  });

  test('every package a bundle requires is inside, with its own dependencies; nothing unrequired', () => {
    const bundles = names.filter((n) => /^extension\/dist\/.*\.js$/.test(n));
    const required = new Set<string>();
    for (const b of bundles) for (const r of bareRequires(String(readZipEntry(vsix, b)))) required.add(r);
    for (const r of required) assert.ok(names.includes(`extension/node_modules/${r}/package.json`), `${r} is required by a bundle and must be packaged`);
    // Top-level packaged packages are the required ones or dependencies of packaged packages.
    const top = new Set(names.map((n) => /^extension\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(n)?.[1]).filter((x): x is string => !!x));
    const needed = new Set(required);
    for (const p of top) {
      const pj = JSON.parse(String(readZipEntry(vsix, `extension/node_modules/${p}/package.json`)));
      for (const d of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies })) needed.add(d);
    }
    const extra = [...top].filter((p) => !needed.has(p));
    assert.deepEqual(extra, [], 'packages no bundle loads');
    if (!required.has('bullmq')) assert.ok(!top.has('bullmq'), 'bullmq is shipped only when a bundle loads it');
  });

  test('the unpacked package runs on its own: the CLI checks and runs a study', { timeout: 240_000 }, (t) => {
    const dir = path.join(tmp, 'unpacked');
    // Unpacked as the editor installs a .vsix: contents and permission bits (native binaries).
    for (const e of listZip(vsix).filter((x) => x.name.startsWith('extension/'))) {
      const to = path.join(dir, e.name);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, readZipEntry(vsix, e.name));
      if (e.mode) fs.chmodSync(to, e.mode);
    }
    // A study and its data beside the package, far from the repository's node_modules.
    const work = path.join(tmp, 'work');
    fs.mkdirSync(path.join(work, 'data'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt'), path.join(work, 'data', 'orcl-1995-2014.txt'));
    fs.writeFileSync(path.join(work, 'tiny.optstudy'), `study "tiny" {
  data "data/orcl-1995-2014.txt" from 2010-01-01 to 2012-12-31
  cash 100000
  strategy sma_cross
  objective maximize final_value
  stage "grid" {
    search grid
    param fast in [5, 10]
    param slow in [30, 60]
  }
  workers 2
  seed 1
}
`);
    // Every package a bundle requires loads from the package alone (#19: the run host died on a
    // `debug` package whose src/ had been stripped).
    const dist = path.join(dir, 'extension', 'dist');
    const required = new Set<string>();
    for (const f of fs.readdirSync(dist).filter((x) => x.endsWith('.js'))) for (const r of bareRequires(fs.readFileSync(path.join(dist, f), 'utf8'))) required.add(r);
    for (const r of required) {
      const load = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(r)})`], { cwd: dist, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
      assert.equal(load.status, 0, `require('${r}') from the packaged extension fails:\n${load.stderr.slice(0, 1500)}`);
    }
    const cli = path.join(dir, 'extension', 'dist', 'cli.js');
    const check = spawnSync(process.execPath, [cli, 'check', 'tiny.optstudy', '--json'], { cwd: work, encoding: 'utf8' });
    assert.equal(check.status, 0, `packaged optstudy check failed:\n${check.stdout}${check.stderr}`);
    assert.equal(JSON.parse(check.stdout).studies[0].total, 4);
    const run = spawnSync(process.execPath, [cli, 'run', 'tiny.optstudy', '--json', '--out', path.join(tmp, 'run')], { cwd: work, encoding: 'utf8', timeout: 150_000 });
    assert.equal(run.status, 0, `packaged optstudy run failed:\n${run.stdout.slice(-2000)}${run.stderr.slice(-2000)}`);
    // Parquet is read by hyparquet and zstd pages by fzstd, bundled into the CLI: a zstd file
    // loads from the package alone.
    fs.copyFileSync(path.join(ROOT, 'test', 'data', 'fixtures', '2006-min-005.zstd.parquet'), path.join(work, 'data', 'min5.parquet'));
    const pq = spawnSync(process.execPath, [cli, 'backtest', '--data', 'data/min5.parquet', '--strategy', 'sma_cross', '--param', 'fast=5', '--param', 'slow=20', '--json'], { cwd: work, encoding: 'utf8' });
    assert.equal(pq.status, 0, `packaged optstudy backtest on Parquet failed:\n${pq.stdout}${pq.stderr}`);
    assert.ok((JSON.parse(pq.stdout) as { trades: unknown[] }).trades.length > 0, 'the Parquet backtest traded');
    const events = run.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const trials = events.filter((e) => e.type === 'trial');
    assert.equal(trials.length, 4, 'four backtests ran');
    assert.ok(trials.every((t) => t.state === 'complete'), `every trial completed: ${JSON.stringify(trials.map((t) => t.error ?? t.state))}`);
    assert.equal(events.at(-1).type, 'end');
    // The HTML report inlines Chart.js: the package must carry it (#19-2: "Chart.js is not installed").
    const html = path.join(tmp, 'report.html');
    const report = spawnSync(process.execPath, [cli, 'report', path.join(tmp, 'run'), '--html', html, '--no-reruns'], { cwd: work, encoding: 'utf8', timeout: 60_000 });
    assert.equal(report.status, 0, `packaged optstudy report --html failed:\n${report.stdout}${report.stderr}`);
    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /Chart\.js v\d/, 'Chart.js is inlined in the report');
    assert.doesNotMatch(page, /<script[^>]+src=/i, 'the report loads no script from elsewhere');
    // The packaged CLI finds its own backtrader bridge and runs a cerebro factory with it.
    const noBacktrader = backtraderMissing();
    if (noBacktrader) t.diagnostic(`the backtrader part is not run: ${noBacktrader}`);
    else {
      fs.copyFileSync(fixture('parity.py'), path.join(work, 'parity.py'));
      const bt = spawnSync(process.execPath, [cli, 'backtest', '--backtrader', 'parity.py:own_sizer', '--param', 'pfast=10', '--param', 'pslow=30', '--json'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
      assert.equal(bt.status, 0, `packaged optstudy backtest --backtrader failed:\n${bt.stdout}${bt.stderr}`);
      assert.ok(JSON.parse(bt.stdout).metrics.trades_closed > 0, 'the factory traded');
    }
    // esbuild (the language server compiles strategy modules with it) finds its platform binary.
    const esb = path.join(dir, 'extension', 'node_modules', 'esbuild');
    if (fs.existsSync(esb)) {
      const r = spawnSync(process.execPath, ['-e', `const out = require(${JSON.stringify(esb)}).buildSync({ stdin: { contents: 'export const a: number = 1' , loader: 'ts' }, write: false, format: 'cjs' }); process.stdout.write(out.outputFiles[0].text)`], { cwd: work, encoding: 'utf8' });
      assert.equal(r.status, 0, `the packaged esbuild does not run:\n${r.stderr}`);
      assert.match(r.stdout, /a = 1/);
    }
  });
});
