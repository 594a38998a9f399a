// Diagnostics through the built server: language checks, workspace checks, trust, pull and push.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, LspSession, SAMPLES } from '../support/lsp-session';

const broken = fs.readFileSync(path.join(FIXTURES, 'broken.optstudy'), 'utf8');

test('pull diagnostics of the broken sample: codes, source, documentation link, fix data kept', async () => {
  const s = await LspSession.start();
  try {
    const uri = s.open(path.join(SAMPLES, 'broken.optstudy'), broken);
    const items = await s.diagnostics(uri);
    const codes = items.map((d) => d.code);
    for (const c of ['unknown-metric', 'reversed-range', 'continuous-in-grid', 'unknown-parameter', 'date-order']) assert.ok(codes.includes(c), `${c} in ${codes.join()}`);
    for (const d of items) {
      assert.equal(d.source, 'optstudy');
      assert.ok(d.codeDescription.href.endsWith(`#${d.code}`));
      assert.ok([1, 2, 3, 4].includes(d.severity));
    }
    const metric = items.find((d) => d.code === 'unknown-metric');
    assert.deepEqual(metric.data, { replacement: 'sharpe' });
    assert.equal(metric.range.start.line, 9);
    // The data file exists next to the sample: no workspace finding (and the reversed dates are
    // date-order alone, not also an empty range of the file).
    assert.ok(!codes.includes('data-file-missing'));
    assert.ok(!codes.includes('data-file-invalid'), codes.join());
  } finally {
    await s.stop();
  }
});

test('workspace checks: a missing data file and a missing strategy module', async () => {
  const s = await LspSession.start();
  try {
    const text = 'study "s" {\n  data "no/such/file.txt"\n  strategy module "strategies/nope.ts"\n  objective maximize sharpe\n  stage "g" {\n    param x in [1, 2]\n  }\n}\n';
    const uri = s.open('missing-files.optstudy', text);
    const items = await s.diagnostics(uri);
    const data = items.find((d) => d.code === 'data-file-missing');
    assert.ok(data, JSON.stringify(items.map((d) => d.code)));
    assert.match(data.message, /no\/such\/file\.txt/);
    assert.equal(data.range.start.line, 1);
    assert.ok(items.some((d) => d.code === 'module-file-missing' && d.range.start.line === 2));
    // The same study pointing at a real file (relative to the study file) is clean of it.
    const ok = s.open('present-file.optstudy', text.replace('no/such/file.txt', '../../../samples/data/orcl-2014.txt'));
    assert.ok(!(await s.diagnostics(ok)).some((d) => d.code === 'data-file-missing'));
    // A folder is not a data file.
    const dir = s.open('folder.optstudy', text.replace('no/such/file.txt', '.'));
    assert.ok((await s.diagnostics(dir)).some((d) => d.code === 'data-file-unreadable'));
  } finally {
    await s.stop();
  }
});

const COMMAND_STUDY = `strategy py command "python3 python/sma_cross.py" {
  param fast: int = 10
}
study "s" {
  data "../../../samples/data/orcl-2014.txt"
  strategy py
  objective maximize sharpe
  stage "g" {
    param fast in 5 .. 20 step 5
  }
}
`;

test('untrusted workspace: command strategies are flagged until the client reports trust', async () => {
  const s = await LspSession.start({ trusted: false, refreshSupport: true });
  try {
    const uri = s.open('untrusted.optstudy', COMMAND_STUDY);
    const before = await s.diagnostics(uri);
    const flagged = before.filter((d) => d.code === 'untrusted-workspace');
    assert.ok(flagged.length >= 1, JSON.stringify(before));
    assert.ok(flagged.every((d) => d.severity === 2));
    s.notify('optstudy/trustChanged', { trusted: true });
    // The server asks the client to pull again.
    const t0 = Date.now();
    while (!s.server.requests.some((r) => r.method === 'workspace/diagnostic/refresh') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.ok(s.server.requests.some((r) => r.method === 'workspace/diagnostic/refresh'));
    const after = await s.diagnostics(uri);
    assert.ok(!after.some((d) => d.code === 'untrusted-workspace'));
  } finally {
    await s.stop();
  }
  // Trusted (the default): nothing to flag.
  const t = await LspSession.start();
  try {
    const uri = t.open('trusted.optstudy', COMMAND_STUDY);
    assert.ok(!(await t.diagnostics(uri)).some((d) => d.code === 'untrusted-workspace'));
  } finally {
    await t.stop();
  }
});

test('push model: a client without pull support gets publishDiagnostics with the document version', async () => {
  const s = await LspSession.start({ pull: false });
  try {
    const uri = s.open(path.join(SAMPLES, 'broken.optstudy'), broken);
    const first: any = await s.server.waitFor('textDocument/publishDiagnostics', (p: any) => p.uri === uri && p.version === 1);
    assert.ok(first.diagnostics.some((d: any) => d.code === 'unknown-metric'));
    const v = s.change(uri, broken.replace('sharp ', 'sharpe'));
    const second: any = await s.server.waitFor('textDocument/publishDiagnostics', (p: any) => p.uri === uri && p.version === v);
    assert.ok(!second.diagnostics.some((d: any) => d.code === 'unknown-metric'));
    s.close(uri);
    const cleared: any = await s.server.waitFor('textDocument/publishDiagnostics', (p: any) => p.uri === uri && p.diagnostics.length === 0);
    assert.deepEqual(cleared.diagnostics, []);
  } finally {
    await s.stop();
  }
});

test('related information points at the first of two duplicates', async () => {
  const s = await LspSession.start();
  try {
    const text = 'study "s" {\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    param fast in 5 .. 20 step 5\n  }\n  stage "g" {\n    param slow in 20 .. 40 step 5\n  }\n}\n';
    const uri = s.open('dups.optstudy', text);
    const items = await s.diagnostics(uri);
    const dup = items.find((d) => d.code === 'duplicate-stage');
    assert.ok(dup, JSON.stringify(items.map((d) => d.code)));
    assert.ok(dup.relatedInformation?.length >= 1, JSON.stringify(dup));
    assert.equal(dup.relatedInformation[0].location.uri, uri);
    assert.equal(dup.relatedInformation[0].location.range.start.line, 3);
  } finally {
    await s.stop();
  }
});
