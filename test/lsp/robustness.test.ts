// No input kills the server: every prefix of every sample is answered, a forced internal error
// is logged and answered, cancellation is honoured, rapid edits leave no stale diagnostics.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LspSession, SAMPLES, sampleFiles } from '../support/lsp-session';

const samples = sampleFiles();

function lastPosition(text: string) {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}

test('every prefix of the samples: diagnostics, completion, hover, symbols, tokens and lenses all answered', async () => {
  assert.ok(samples.length >= 2, 'samples exist');
  const s = await LspSession.start();
  try {
    for (const name of samples) {
      const full = fs.readFileSync(path.join(SAMPLES, name), 'utf8');
      const uri = s.open(path.join(SAMPLES, name), '');
      // Every character boundary would be ~5,000 requests per sample on 2 shared cores; every
      // 7th boundary plus every line end exercises each token kind cut in the middle.
      const cuts = new Set<number>();
      for (let i = 0; i <= full.length; i += 7) cuts.add(i);
      for (let i = 0; i < full.length; i++) if (full[i] === '\n') cuts.add(i);
      cuts.add(full.length);
      for (const cut of [...cuts].sort((a, b) => a - b)) {
        const text = full.slice(0, cut);
        s.change(uri, text);
        const at = lastPosition(text);
        const [diags, items, , syms, toks, lenses, hints, folds] = await Promise.all([
          s.diagnostics(uri),
          s.completion(uri, at),
          s.hover(uri, { line: at.line, character: Math.max(0, at.character - 1) }),
          s.symbols(uri),
          s.semanticTokens(uri),
          s.codeLenses(uri),
          s.inlayHints(uri),
          s.folding(uri),
        ]);
        assert.ok(Array.isArray(diags) && Array.isArray(items) && Array.isArray(syms) && Array.isArray(toks.data) && Array.isArray(lenses) && Array.isArray(hints) && Array.isArray(folds), `${name} @${cut}`);
      }
      s.close(uri);
    }
    assert.doesNotMatch(s.server.stderr(), /failed|uncaught|unhandled/i);
    assert.ok(!s.server.notifications.some((n) => n.method === 'window/logMessage' && (n.params as any).type === 1), 'no internal error logged');
    assert.equal(s.server.process.exitCode, null, 'server alive');
  } finally {
    await s.stop();
  }
});

test('every prefix of the quickstart sample, character by character, is answered', async () => {
  const s = await LspSession.start();
  try {
    const full = fs.readFileSync(path.join(SAMPLES, 'quickstart.optstudy'), 'utf8');
    const uri = s.open(path.join(SAMPLES, 'quickstart.optstudy'), '');
    for (let cut = 0; cut <= full.length; cut++) {
      const text = full.slice(0, cut);
      s.change(uri, text);
      const at = lastPosition(text);
      const [diags, items, , toks] = await Promise.all([s.diagnostics(uri), s.completion(uri, at), s.hover(uri, at), s.semanticTokens(uri)]);
      assert.ok(Array.isArray(diags) && Array.isArray(items) && Array.isArray(toks.data), `@${cut}`);
      // A prefix that is not the whole study always has something to say (at least a missing brace).
      if (cut > full.indexOf('study "') && cut < full.indexOf('workers')) assert.ok(diags.some((d) => d.severity === 1), `errors expected @${cut}: ${JSON.stringify(text.slice(-20))}`);
    }
    const whole = await s.diagnostics(uri);
    assert.deepEqual(whole.filter((d) => d.severity === 1), [], 'the full sample is clean');
    assert.ok(!s.server.notifications.some((n) => n.method === 'window/logMessage' && (n.params as any).type === 1), 'no internal error logged');
  } finally {
    await s.stop();
  }
});

test('mutations of a sample (deleted, duplicated and swapped lines, stray characters) are answered', async () => {
  const s = await LspSession.start();
  try {
    const full = fs.readFileSync(path.join(SAMPLES, 'ema-atr-staged.optstudy'), 'utf8');
    const lines = full.split('\n');
    const uri = s.open('mutations.optstudy', full);
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let k = 0; k < 120; k++) {
      const m = lines.slice();
      const i = rnd(m.length);
      const j = rnd(m.length);
      switch (k % 5) {
        case 0: m.splice(i, 1); break;
        case 1: m.splice(i, 0, m[j]); break;
        case 2: [m[i], m[j]] = [m[j], m[i]]; break;
        case 3: m[i] = m[i].slice(0, rnd(m[i].length + 1)) + '}{"@..,'[rnd(7)] + m[i].slice(rnd(m[i].length + 1)); break;
        case 4: m[i] = m[i].slice(0, rnd(m[i].length + 1)); break;
      }
      const text = m.join('\n');
      s.change(uri, text);
      const at = { line: i, character: rnd(40) };
      const results = await Promise.all([s.diagnostics(uri), s.completion(uri, at), s.hover(uri, at), s.format(uri), s.codeLenses(uri), s.inlayHints(uri), s.prepareRename(uri, at), s.definition(uri, at)]);
      assert.equal(results.length, 8);
    }
    assert.equal(s.server.process.exitCode, null);
    assert.ok(!s.server.notifications.some((n) => n.method === 'window/logMessage' && (n.params as any).type === 1), 'no internal error logged');
  } finally {
    await s.stop();
  }
});

test('a forced internal error (OPTSTUDY_FAULT=hover,completion) is logged and answered with an empty result', async () => {
  const s = await LspSession.start({ env: { OPTSTUDY_FAULT: 'hover,completion,diagnostics' } });
  try {
    const uri = s.open('fault.optstudy', 'study "s" {\n  objective maximize sharpe\n}\n');
    const hover = await s.hover(uri, { line: 1, character: 23 });
    assert.equal(hover, null);
    assert.deepEqual(await s.completion(uri, { line: 1, character: 2 }), []);
    assert.deepEqual(await s.diagnostics(uri), []);
    const log: any = await s.server.waitFor('window/logMessage', (p: any) => /hover failed: Error: fault injected/.test(p.message));
    assert.equal(log.type, 1, 'logged as an error');
    await s.server.waitFor('window/logMessage', (p: any) => /completion failed/.test(p.message));
    // Other features are unaffected, and the server keeps answering.
    const syms = await s.symbols(uri);
    assert.ok(Array.isArray(syms));
    assert.equal(s.server.process.exitCode, null);
  } finally {
    await s.stop();
  }
});

test('a cancelled request is answered with RequestCancelled (or its result) and the server goes on', async () => {
  const s = await LspSession.start();
  try {
    const big = fs.readFileSync(path.join(SAMPLES, 'ema-atr-staged.optstudy'), 'utf8').repeat(50);
    const uri = s.open('cancel.optstudy', big);
    const { CancellationTokenSource } = await import('vscode-jsonrpc');
    let cancelledCount = 0;
    for (let i = 0; i < 5; i++) {
      s.change(uri, big + `\n// edit ${i}\n`);
      const cts = new CancellationTokenSource();
      const p = s.server.connection.sendRequest('textDocument/diagnostic', { textDocument: { uri } }, cts.token);
      cts.cancel();
      try {
        const r: any = await p;
        assert.ok(Array.isArray(r.items));
      } catch (e: any) {
        assert.equal(e.code, -32800, String(e));
        cancelledCount++;
      }
    }
    // The cancel is on the wire before the handler's first yield: it must be seen.
    assert.ok(cancelledCount >= 1, 'at least one request observed its cancellation');
    const items = await s.diagnostics(uri);
    assert.ok(Array.isArray(items));
  } finally {
    await s.stop();
  }
});

test('rapid successive edits (push model): the last version’s diagnostics win', async () => {
  const s = await LspSession.start({ pull: false });
  try {
    const good = 'study "s" {\n  data "../../../samples/data/orcl-2014.txt"\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    param fast in 5 .. 20 step 5\n  }\n}\n';
    const uri = s.open('rapid.optstudy', good);
    let v = 1;
    for (let i = 0; i < 25; i++) v = s.change(uri, good.replace('sharpe', i % 2 ? 'sharp' : 'sharpe').replace('step 5', `step ${i % 3 === 0 ? -1 : 5}`));
    const final = good.replace('sharpe', 'sharpe_typo_final');
    v = s.change(uri, final);
    const pushed: any = await s.server.waitFor('textDocument/publishDiagnostics', (p: any) => p.uri === uri && p.version === v);
    // Every push after the final one must still be for the final version (no stale push later).
    await new Promise((r) => setTimeout(r, 150));
    const later = s.server.notifications.filter((n) => n.method === 'textDocument/publishDiagnostics' && (n.params as any).uri === uri);
    assert.equal((later[later.length - 1].params as any).version, v, 'the last push is for the last version');
    assert.ok(Array.isArray(pushed.diagnostics));
  } finally {
    await s.stop();
  }
});

test('rapid successive edits (pull model): a pull after the edits answers for the final text', async () => {
  const s = await LspSession.start();
  try {
    const base = 'study "s" {\n  strategy sma_cross\n  objective maximize sharpe\n}\n';
    const uri = s.open('rapid-pull.optstudy', base);
    const pulls: Promise<any[]>[] = [];
    for (let i = 0; i < 20; i++) {
      s.change(uri, base.replace('sharpe', `sharpe${'x'.repeat(i)}`));
      pulls.push(s.diagnostics(uri));
    }
    s.change(uri, base);
    const finalDiags = await s.diagnostics(uri);
    await Promise.all(pulls);
    const again = await s.diagnostics(uri);
    assert.deepEqual(finalDiags, again, 'same version, same answer');
    assert.ok(!finalDiags.some((d) => /sharpex/.test(d.message)), 'nothing from an earlier version');
  } finally {
    await s.stop();
  }
});
