// One build for every bundle. CommonJS everywhere: VS Code 1.100's extension host loads
// CommonJS extensions, and the CLI, server and workers share the same output format.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// Packages that must be loaded from node_modules at run time: piscina resolves its own
// worker file relative to its package; bullmq loads Lua scripts from its package folder;
// playwright-core is only for tests.
const external = ['vscode', 'piscina', 'bullmq', 'ioredis', 'playwright-core', 'esbuild'];

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  external,
  logLevel: 'warning',
};

/** Every `*.ts` file under a folder, recursively. */
function tsFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const optional = (p) => (existsSync(p) ? [p] : []);

const builds = [
  // The extension (client side), the language server, the CLI and the run host.
  { ...node, entryPoints: { extension: 'client/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { server: 'server/lsp/main.ts' }, outdir: 'dist' },
  // The language server's child process that runs a strategy module to read its parameters.
  { ...node, entryPoints: { 'read-module-params': 'server/lsp/read-module-params.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'server/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  ...optional('server/host/run-host.ts').map((p) => ({ ...node, entryPoints: { 'run-host': p }, outdir: 'dist' })),
  // The piscina task file. Never call it worker.js (piscina has its own).
  ...optional('server/executor/backtest-task.ts').map((p) => ({ ...node, entryPoints: { 'backtest-task': p }, outdir: 'dist' })),
  // The results panel: a browser bundle.
  ...optional('webview/main.ts').map((p) => ({
    bundle: true, platform: 'browser', target: 'chrome120', format: 'iife',
    sourcemap: production ? false : 'linked', minify: production, logLevel: 'warning',
    entryPoints: { webview: p }, outdir: 'dist',
  })),
  // Tests and benchmarks: each file bundled on its own, same folder structure under out/.
  {
    ...node,
    sourcemap: 'inline',
    entryPoints: tsFiles('test').filter((f) => !f.includes(`${join('test', 'fixtures')}`)),
    outbase: '.',
    outdir: 'out',
  },
];

if (watch) {
  for (const b of builds) {
    const ctx = await esbuild.context(b);
    await ctx.watch();
  }
  console.log('esbuild: watching');
} else {
  // Every bundle is built even when another fails, so one broken file does not hide the rest.
  const t0 = Date.now();
  const results = await Promise.allSettled(builds.map((b) => esbuild.build(b)));
  const failed = results.filter((r) => r.status === 'rejected');
  // The backtrader bridge is Python: shipped beside the bundles (server/strategies/backtrader).
  mkdirSync('dist/backtrader', { recursive: true });
  copyFileSync('server/strategies/backtrader/optstudy_bridge.py', 'dist/backtrader/optstudy_bridge.py');
  console.log(`esbuild: ${builds.length - failed.length}/${builds.length} builds in ${Date.now() - t0} ms`);
  if (failed.length) process.exit(1);
}
