// Strategy modules whose parameters the language server reads (trusted workspaces) run in a
// child process with a hard time and memory limit: a module that loops in a promise or a
// timer, loops at top level, or allocates without end never freezes the server, and the user
// is told what happened. Real hostile modules, the built server over real LSP.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LspSession, cursor } from '../support/lsp-session';

const PARAMS = (name: string) => `[{ name: '${name}', type: 'int', default: 7, min: 1, doc: 'A parameter.' }]`;
const MODULES: Record<string, string> = {
  // Each loops forever once its top-level code has returned.
  'promise-loop.js': `Promise.resolve().then(() => { for (;;) {} });\nexport default { name: 'p', params: ${PARAMS('alpha')}, setup() { return () => {}; } };`,
  'timer-loop.js': `setTimeout(() => { for (;;) {} }, 0);\nsetInterval(() => {}, 1);\nexport default { name: 't', params: ${PARAMS('beta')}, setup() { return () => {}; } };`,
  'exit-loop.js': `process.on('exit', () => { for (;;) {} });\nexport default { name: 'x', params: ${PARAMS('gamma')}, setup() { return () => {}; } };`,
  // These never return from their top-level code.
  'sync-loop.js': `const fs = require('fs');\nconst cp = require('child_process').spawn('sleep', ['300'], { stdio: 'ignore' });\nfs.writeFileSync(__dirname + '/sleep.pid', String(cp.pid));\nfor (;;) {}\nexport default { params: ${PARAMS('never')} };`,
  'heap-hog.js': `const keep = [];\nfor (;;) keep.push(new Array(1e5).fill({ a: 1 }));\nexport default { params: ${PARAMS('never')} };`,
  'buffer-hog.js': `const keep = [];\nfor (;;) keep.push(Buffer.alloc(16 << 20).fill(1));\nexport default { params: ${PARAMS('never')} };`,
  'throws.js': `throw new Error('no broker configured');\nexport default { params: ${PARAMS('never')} };`,
};

const study = (module: string) => cursor(`study "s" {\n  data "prices.txt"\n  strategy module "${module}"\n  objective maximize sharpe\n  stage "a" {\n    param <|>\n  }\n}\n`);

/** Rejects when `p` does not settle within `ms` (a frozen server never answers). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (server frozen?)`)), ms)))]).finally(() => clearTimeout(timer));
}

/** True once `pid` has exited (gone, or a zombie waiting for its reaper); false after 10 s. */
async function ended(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    let state: string;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return true;
    }
    if (state === 'Z' || state === 'X') return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test('hostile strategy modules: the server keeps answering, reads what it can, and says what happened', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optstudy-lsp-modules-'));
  let s: LspSession | undefined;
  try {
    for (const [f, code] of Object.entries(MODULES)) fs.writeFileSync(path.join(dir, f), code);
    fs.writeFileSync(path.join(dir, 'prices.txt'), 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,1\n');
    s = await LspSession.start({ root: dir, env: { OPTSTUDY_MODULE_READ_TIMEOUT_MS: '8000', OPTSTUDY_MODULE_READ_MEMORY_MB: '100' } });
    const session = s;
    const open = (module: string) => {
      const { text, position } = study(module);
      return { uri: session.open(path.join(dir, module.replace(/\.js$/, '.optstudy')), text), position };
    };
    const plain = session.open(path.join(dir, 'plain.optstudy'), 'study "plain" {\n  data "prices.txt"\n  strategy sma_cross\n  objective maximize sharpe\n}\n');

    // Loops after the top-level code: the parameters are read, and the server never stalls.
    for (const [module, param] of [['promise-loop.js', 'alpha'], ['timer-loop.js', 'beta'], ['exit-loop.js', 'gamma']] as const) {
      const { uri, position } = open(module);
      const items = await within(session.completion(uri, position), 30_000, `completion with ${module}`);
      const labels = items.map((i) => i.label);
      assert.ok(labels.includes(param) && !labels.includes('never'), `${module}: ${labels.join()}`);
      const diags = await within(session.diagnostics(uri), 30_000, `diagnostics with ${module}`);
      assert.ok(!diags.some((d) => d.code === 'module-params-unreadable'), `${module}: ${JSON.stringify(diags)}`);
      // The server's own thread is free: a request on another document is answered.
      assert.ok(Array.isArray(await within(session.symbols(plain), 10_000, `symbols after ${module}`)));
    }

    // Never returns: while its reader runs (up to the 8 s limit), other requests are answered
    // first; then a diagnostic says what happened, and what it started is gone too.
    const loop = open('sync-loop.js');
    const order: string[] = [];
    const pending = within(session.diagnostics(loop.uri), 30_000, 'diagnostics with sync-loop.js').then((d) => (order.push('sync-loop'), d));
    await within(session.hover(plain, { line: 2, character: 12 }), 10_000, 'hover during the read').then(() => order.push('hover'));
    const loopDiags = await pending;
    assert.deepEqual(order, ['hover', 'sync-loop'], 'the hover is answered while the module runs');
    const said = loopDiags.find((d) => d.code === 'module-params-unreadable');
    assert.ok(said, JSON.stringify(loopDiags));
    assert.match(said.message, /ran for more than 8 s and was stopped/);
    assert.equal(said.range.start.line, 2, 'on the module path');
    assert.equal(said.severity, 2, 'a warning');
    const sleepPid = Number(fs.readFileSync(path.join(dir, 'sleep.pid'), 'utf8'));
    assert.ok(await ended(sleepPid), 'the process the module started was killed with it');

    for (const [module, expected] of [
      ['heap-hog.js', /used more than 100 MB of memory and was stopped/],
      ['buffer-hog.js', /used more than 100 MB of memory and was stopped/],
      ['throws.js', /threw Error: no broker configured/],
    ] as const) {
      const { uri, position } = open(module);
      const diags = await within(session.diagnostics(uri), 30_000, `diagnostics with ${module}`);
      const d = diags.find((x) => x.code === 'module-params-unreadable');
      assert.ok(d, `${module}: ${JSON.stringify(diags)}`);
      assert.match(d.message, expected, module);
      // Unknown parameters: completion offers none of the module's, and nothing is flagged as unknown.
      assert.ok(!(await session.completion(uri, position)).some((i) => i.label === 'never'), module);
      assert.ok(!diags.some((x) => x.code === 'unknown-parameter'), module);
    }
    assert.equal(session.server.process.exitCode, null, 'the server is alive');
  } finally {
    await s?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
