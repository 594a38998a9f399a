// `strategy NAME backtrader "FILE.py:NAME"` in the editor (trusted workspace): the built server
// asks the shipped bridge (real backtrader, real Python) what the file defines and what the
// factory and its strategy class take, so a wrong class name, a parameter the strategy lacks
// and the names after `FILE.py:` are known before any trial runs. An untrusted workspace runs
// no user code: nothing is asked, and nothing is flagged on guesswork.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LspSession, cursor } from '../support/lsp-session';
import { ROOT } from '../support/lsp-client';
import { backtraderMissing } from '../strategies/backtrader-env';

const skip = backtraderMissing();

const study = (spec: string, stage: string) => `strategy sma backtrader "${spec}"

study "s" {
  data "prices.txt"
  strategy sma
  objective maximize rodd.ratio
  stage "g" {
    ${stage}
  }
}
`;

async function withFolder(trusted: boolean, body: (s: LspSession, dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optstudy-lsp-bt-'));
  let s: LspSession | undefined;
  try {
    fs.copyFileSync(path.join(ROOT, 'samples', 'backtrader', 'smacross.py'), path.join(dir, 'smacross.py'));
    fs.writeFileSync(path.join(dir, 'prices.txt'), 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,1\n');
    s = await LspSession.start({ root: dir, trusted });
    await body(s, dir);
  } finally {
    await s?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('backtrader strategies in the editor: a wrong class name, a parameter the strategy lacks, the names after FILE.py:', { skip, timeout: 120_000 }, async () => {
  await withFolder(true, async (s, dir) => {
    // A misspelt class: an error on the string, with the name it has.
    const wrong = s.open(path.join(dir, 'wrong.optstudy'), study('smacross.py:SmaCros', 'param pfast in 5 .. 10 step 5'));
    const d1 = await s.diagnostics(wrong);
    const spec = d1.find((d) => d.code === 'backtrader-spec');
    assert.ok(spec, JSON.stringify(d1));
    assert.match(spec.message, /has no 'SmaCros' \(did you mean 'SmaCross'\?\)/);
    assert.equal(spec.range.start.line, 0);

    // The factory's parameters (pfast, pslow, percent) complete in a stage; a parameter it
    // lacks is flagged; its analyzers are metrics (the objective rodd.ratio is not flagged).
    const c = cursor(study('smacross.py:make_cerebro', 'param <|>'));
    const good = s.open(path.join(dir, 'good.optstudy'), c.text);
    const labels = (await s.completion(good, c.position)).map((i) => i.label);
    for (const p of ['pfast', 'pslow', 'percent']) assert.ok(labels.includes(p), `${p} in ${labels.join()}`);
    s.change(good, study('smacross.py:make_cerebro', 'param pfst in 5 .. 10 step 5'));
    const d2 = await s.diagnostics(good);
    assert.ok(!d2.some((d) => d.code === 'backtrader-spec'), JSON.stringify(d2));
    assert.ok(!d2.some((d) => /rodd/.test(d.message)), `the analyzer's metric is known: ${JSON.stringify(d2)}`);
    const unknown = d2.find((d) => /pfst/.test(d.message));
    assert.ok(unknown && unknown.severity === 1, JSON.stringify(d2));
    assert.match(unknown.message, /pfast/);

    // After `FILE.py:` the file's Strategy classes and functions; before it, the .py files.
    const n = cursor(study('smacross.py:<|>', 'param pfast in 5 .. 10 step 5'));
    const names = s.open(path.join(dir, 'names.optstudy'), n.text);
    const items = await s.completion(names, n.position);
    const byLabel = new Map(items.map((i) => [i.label, i]));
    assert.equal(byLabel.get('SmaCross')?.kind, 7 /* Class */, JSON.stringify(items));
    assert.equal(byLabel.get('make_cerebro')?.kind, 3 /* Function */);
    assert.match(byLabel.get('make_cerebro')!.detail, /make_cerebro\(pfast=10, pslow=30, percent=95\)/);
    assert.ok(!byLabel.has('LongOnlyPercent') && !byLabel.has('ReturnOverDrawdown'), 'sizers and analyzers are not strategies');
    assert.deepEqual(byLabel.get('SmaCross')!.textEdit.range, { start: { line: 0, character: 37 }, end: n.position });
    const f = cursor(study('sm<|>', 'param pfast in 5 .. 10 step 5'));
    const files = s.open(path.join(dir, 'files.optstudy'), f.text);
    assert.deepEqual((await s.completion(files, f.position)).map((i) => i.label), ['smacross.py']);
  });
});

test('an untrusted workspace runs no backtrader code: no names, no verdict on the class', { skip, timeout: 60_000 }, async () => {
  await withFolder(false, async (s, dir) => {
    const n = cursor(study('smacross.py:<|>', 'param whatever in 5 .. 10 step 5'));
    const uri = s.open(path.join(dir, 'u.optstudy'), n.text);
    assert.deepEqual(await s.completion(uri, n.position), []);
    s.change(uri, study('smacross.py:SmaCros', 'param whatever in 5 .. 10 step 5'));
    const d = await s.diagnostics(uri);
    assert.ok(!d.some((x) => x.code === 'backtrader-spec' || /whatever/.test(x.message)), JSON.stringify(d));
  });
});

test('hover on the NAME after FILE.py: a class shows its docstring and parameters with defaults, a factory its signature and docstring; docstrings stay text', { skip, timeout: 120_000 }, async () => {
  await withFolder(true, async (s, dir) => {
    // A docstring with Markdown in it (a link, emphasis, an HTML tag) and a parameter whose default's repr has a backtick.
    fs.writeFileSync(
      path.join(dir, 'marked.py'),
      'import backtrader as bt\n\nclass Marked(bt.Strategy):\n    """Uses *risk* [here](http://example.com) <img src=x>.\n\n    Second paragraph."""\n    params = (("tag", "a`b"), ("n", 3))\n',
    );
    const at = async (spec: string, column: (line: string) => number): Promise<any> => {
      const text = study(spec, 'param pfast in 5 .. 10 step 5');
      const uri = s.open(path.join(dir, `h${Math.random().toString(36).slice(2)}.optstudy`), text);
      const line = text.split('\n')[0]!;
      return s.hover(uri, { line: 0, character: column(line) });
    };
    const onName = (name: string) => (line: string) => line.indexOf(name) + 2;

    const cls = await at('smacross.py:SmaCross', onName('SmaCross'));
    assert.ok(cls, 'a hover on the class name');
    assert.match(cls.contents.value, /\*\*SmaCross\*\* — backtrader strategy/);
    assert.match(cls.contents.value, /Long when the fast SMA crosses above the slow one/);
    assert.match(cls.contents.value, /\| `pfast` \| `10` \|\n\| `pslow` \| `30` \|/);
    assert.deepEqual(cls.range, { start: { line: 0, character: 37 }, end: { line: 0, character: 45 } });

    const factory = await at('smacross.py:make_cerebro', onName('make_cerebro'));
    assert.match(factory.contents.value, /\*\*make\\_cerebro\*\* — cerebro factory/);
    assert.match(factory.contents.value, /```python\ndef make_cerebro\(pfast=10, pslow=30, percent=95\)\n```/);
    assert.match(factory.contents.value, /The whole backtest setup: data, broker, sizer, analyzers and the strategy\\./);

    const marked = await at('marked.py:Marked', onName('Marked'));
    const v: string = marked.contents.value;
    assert.ok(v.includes('Uses \\*risk\\* \\[here\\]\\(http://example\\.com\\) \\<img src=x\\>\\.'), v);
    assert.ok(v.includes('Second paragraph'), v);
    assert.ok(v.includes("| `` 'a`b' `` |") && v.includes('| `3` |'), v);

    // The file part of the string is not the name; a name the file lacks has no hover (its diagnostic speaks).
    assert.equal(await at('smacross.py:SmaCross', (line) => line.indexOf('smacross.py') + 2), null);
    assert.equal(await at('smacross.py:Nope', onName('Nope')), null);
  });
});

test('an untrusted workspace shows no hover from backtrader code', { skip, timeout: 60_000 }, async () => {
  await withFolder(false, async (s, dir) => {
    const text = study('smacross.py:SmaCross', 'param pfast in 5 .. 10 step 5');
    const uri = s.open(path.join(dir, 'u.optstudy'), text);
    assert.equal(await s.hover(uri, { line: 0, character: text.indexOf('SmaCross') + 2 }), null);
  });
});
