// Completion through the built server: each case is a study with a <|> cursor.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { LspSession, SAMPLES, cursor } from '../support/lsp-session';

let s: LspSession;
before(async () => {
  s = await LspSession.start();
});
after(() => s.stop());

let n = 0;
async function complete(marked: string): Promise<any[]> {
  const { text, position } = cursor(marked);
  const uri = s.open(`completion-${n++}.optstudy`, text);
  return s.completion(uri, position);
}
const labels = (items: any[]) => items.map((i) => i.label);

const HEAD = `study "s" {
  data "data/orcl-2014.txt"
  strategy ema_atr
  objective maximize sharpe
`;

test('top level offers study and strategy, and the snippets', async () => {
  const items = await complete('// a file\n<|>');
  const l = labels(items);
  assert.ok(l.includes('study') && l.includes('strategy'), l.join());
  const snip = items.find((i) => i.label.startsWith('study ('));
  assert.ok(snip, 'a new-study snippet');
  assert.equal(snip.insertTextFormat, 2);
  assert.match(snip.insertText, /stage "\$\{\d+:grid\}"/);
  assert.ok(!l.includes('param'), 'no stage keywords at top level');
});

test('study body offers the study statements and a new-stage snippet, not stage statements', async () => {
  const l = labels(await complete(`study "s" {\n  <|>\n}`));
  for (const k of ['data', 'cash', 'commission', 'sizing', 'strategy', 'objective', 'objectives', 'constraint', 'stage', 'workers', 'seed', 'timeout', 'retries']) assert.ok(l.includes(k), `${k} in ${l.join()}`);
  assert.ok(l.some((x) => x.startsWith('stage (')), 'stage snippet');
  assert.ok(!l.includes('where') && !l.includes('search'));
});

test('a half-typed keyword still completes in its block', async () => {
  const items = await complete(`study "s" {\n  obj<|>\n}`);
  assert.ok(labels(items).includes('objective'));
});

test('after `strategy`: built-ins, declared strategies and `module`', async () => {
  const l = labels(await complete(`strategy mine command "python3 x.py" {\n  param k: int = 3\n}\nstudy "s" {\n  strategy <|>\n}`));
  for (const k of ['sma_cross', 'ema_atr', 'rsi_reversion', 'bollinger', 'mine', 'module']) assert.ok(l.includes(k), `${k} in ${l.join()}`);
});

test('after `param` in a stage: the selected strategy’s parameters with type, default and doc, minus those already in the stage', async () => {
  const items = await complete(`${HEAD}  stage "a" {\n    param ema_fast in 5 .. 30 step 1\n    param <|>\n  }\n}`);
  const l = labels(items);
  // Its own parameters and the common ones every strategy has (direction, protective orders).
  assert.deepEqual(l.sort(), ['atr_period', 'atr_sl_multiplier', 'atr_tp_multiplier', 'direction', 'ema_slow', 'stop_loss_pct', 'take_profit_pct', 'trail_pct']);
  const slow = items.find((i) => i.label === 'ema_slow');
  assert.equal(slow.detail, 'int = 26');
  assert.match(slow.documentation.value, /Period of the slow EMA/);
});

test('a declared strategy’s parameters complete too', async () => {
  const l = labels(await complete(`strategy mine command "python3 x.py" {\n  param depth: int = 3\n  param mode: string = "a"\n}\nstudy "s" {\n  strategy mine\n  stage "a" {\n    param <|>\n  }\n}`));
  assert.deepEqual(l.sort(), ['depth', 'mode']);
});

test('after `param NAME` comes `in`; after `a .. b` comes `step`; after `log a .. b` comes `count`', async () => {
  assert.deepEqual(labels(await complete(`${HEAD}  stage "a" {\n    param ema_fast <|>\n  }\n}`)), ['in']);
  assert.deepEqual(labels(await complete(`${HEAD}  stage "a" {\n    param ema_fast in 5 .. 30 <|>\n  }\n}`)), ['step']);
  assert.deepEqual(labels(await complete(`${HEAD}  stage "a" {\n    param atr_sl_multiplier in log 0.5 .. 4 <|>\n  }\n}`)), ['count']);
});

test('after `in`: every domain form, filled from the parameter’s schema (#19)', async () => {
  const items = await complete(`${HEAD}  stage "a" {\n    param ema_fast in <|>\n  }\n}`);
  const l = labels(items);
  // ema_fast: int, default 12, at least 1 (grammar/builtins.ts).
  const stepped = l.find((x) => / \.\. .* step /.test(x));
  const list = l.find((x) => x.startsWith('['));
  const continuous = l.find((x) => /^[\d.]+ \.\. [\d.]+$/.test(x));
  const log = l.find((x) => x.startsWith('log '));
  assert.ok(stepped && list && continuous && log, l.join(' | '));
  assert.match(items.find((i) => i.label === stepped).insertText, /^\$\{1:\d+\} \.\. \$\{2:\d+\} step \$\{3:\d+\}$/);
  // A float parameter gets float steps; a client without snippets gets the values themselves.
  const plain = await LspSession.start({ snippets: false });
  try {
    const { text, position } = cursor(`${HEAD}  stage "a" {\n    param atr_sl_multiplier in <|>\n  }\n}`);
    const got = await plain.completion(plain.open('domain-forms.optstudy', text), position);
    const range = got.find((i) => / step /.test(i.label));
    assert.ok(range && range.insertTextFormat !== 2 && !/\$/.test(range.insertText ?? range.label), JSON.stringify(range));
    assert.equal(range.insertText ?? range.label, range.label);
  } finally {
    await plain.stop();
  }
});

test('on an existing `param` line, its own parameter is offered (others of the stage are not)', async () => {
  const l = labels(await complete(`${HEAD}  stage "a" {\n    param ema_slow in 20 .. 120 step 5\n    param ema_f<|>ast in 5 .. 30 step 1\n  }\n}`));
  assert.ok(l.includes('ema_fast'), l.join());
  assert.ok(!l.includes('ema_slow'), 'searched on another line');
});

test('string choices are offered as a list after `in`', async () => {
  const l = labels(await complete(`study "s" {\n  strategy bollinger\n  stage "a" {\n    param mode in <|>\n  }\n}`));
  assert.ok(l.includes('["reversion", "breakout"]'), l.join());
});

test('after `search`: the methods; inside its options: that method’s options not yet written, then enum values', async () => {
  const methods = await complete(`${HEAD}  stage "a" {\n    search <|>\n  }\n}`);
  assert.deepEqual(labels(methods).sort(), ['bayes', 'cmaes', 'genetic', 'grid', 'random', 'tpe']);
  assert.ok(methods.find((m) => m.label === 'bayes').documentation.value.includes('Gaussian process'));
  const opts = labels(await complete(`${HEAD}  stage "a" {\n    search bayes { trials 60, <|> }\n  }\n}`));
  assert.deepEqual(opts.sort(), ['acquisition', 'init', 'kappa', 'xi']);
  assert.deepEqual(labels(await complete(`${HEAD}  stage "a" {\n    search bayes { trials 60, acquisition <|> }\n  }\n}`)).sort(), ['ei', 'poi', 'ucb']);
  assert.deepEqual(labels(await complete(`${HEAD}  stage "a" {\n    search genetic { <|> }\n  }\n}`)).sort(), ['crossover', 'mutation', 'population', 'trials']);
});

test('objectives and constraints complete metrics and functions; `where` completes parameters', async () => {
  const obj = await complete(`study "s" {\n  objective maximize profit_factor * <|>\n}`);
  const l = labels(obj);
  assert.ok(l.includes('sharpe') && l.includes('max_drawdown_pct') && l.includes('max') && l.includes('sqrt'), l.join());
  const sharpe = obj.find((i) => i.label === 'sharpe');
  assert.match(sharpe.detail, /ratio · higher is better/);
  const cons = labels(await complete(`study "s" {\n  constraint tr<|>\n}`));
  assert.ok(cons.includes('trades'));
  const where = labels(await complete(`${HEAD}  stage "a" {\n    param ema_fast in 5 .. 30 step 1\n    param ema_slow in 20 .. 120 step 5\n    where <|>\n  }\n}`));
  assert.ok(where.includes('ema_fast') && where.includes('ema_slow') && where.includes('min'), where.join());
  assert.ok(!where.includes('sharpe'), 'where filters parameters, not metrics');
  const objs = labels(await complete(`study "s" {\n  objectives {\n    maximize sharpe\n    <|>\n  }\n}`));
  assert.deepEqual(objs.sort(), ['maximize', 'minimize']);
  const objs2 = labels(await complete(`study "s" {\n  objectives { maximize sharpe minimize <|> }\n}`));
  assert.ok(objs2.includes('max_drawdown_pct'));
});

test('stage body: stage statements; overrides: parameters with their default; data: from/to; sizing: modes', async () => {
  const l = labels(await complete(`${HEAD}  stage "a" {\n    <|>\n  }\n}`));
  for (const k of ['search', 'param', 'where']) assert.ok(l.includes(k));
  assert.ok(!l.includes('cash'));
  const ov = await complete(`study "s" {\n  strategy sma_cross { fast = 5, <|> }\n}`);
  assert.deepEqual(labels(ov), ['slow', 'direction', 'stop_loss_pct', 'take_profit_pct', 'trail_pct']);
  assert.equal(ov[0].insertText, 'slow = 30');
  assert.deepEqual(labels(await complete(`study "s" {\n  data "x.txt" <|>\n}`)).sort(), ['from', 'to']);
  assert.deepEqual(labels(await complete(`study "s" {\n  sizing <|>\n}`)).sort(), ['fixed', 'percent']);
});

test('nothing is offered inside comments and strings', async () => {
  assert.deepEqual(await complete(`study "s" {\n  // strategy <|>\n}`), []);
  assert.deepEqual(await complete(`study "s<|>" {\n}`), []);
  assert.deepEqual(await complete(`study "s" {\n  cash 1\n  /* strategy <|> */\n}`), []);
});

test('inside a data path: the price files and folders beside the study', async () => {
  const { text, position } = cursor(`study "s" {\n  data "<|>"\n}`);
  const uri = s.open(path.join(SAMPLES, 'paths.optstudy'), text);
  const top = await s.completion(uri, position);
  assert.ok(top.some((i) => i.label === 'data/' && i.kind === 19), JSON.stringify(top.map((i) => i.label)));
  const inner = cursor(`study "s" {\n  data "data/or<|>\n}`);
  s.change(uri, inner.text);
  const files = await s.completion(uri, inner.position);
  const l = files.map((i) => i.label);
  assert.ok(l.includes('orcl-2014.txt') && l.includes('nvda-1999-2014.txt'), l.join());
  assert.ok(!l.includes('README.md'), 'only price files');
  const edit = files.find((i) => i.label === 'orcl-2014.txt').textEdit;
  assert.deepEqual(edit.range, { start: { line: 1, character: 13 }, end: { line: 1, character: 15 } }); // replaces 'or'
});

test('without snippet support no snippet is sent', async () => {
  const plain = await LspSession.start({ snippets: false });
  try {
    const uri = plain.open('nosnip.optstudy', '');
    const items = await plain.completion(uri, { line: 0, character: 0 });
    assert.ok(items.length > 0);
    assert.ok(items.every((i) => i.insertTextFormat !== 2 || !/\$\{/.test(i.insertText ?? '')), JSON.stringify(items));
  } finally {
    await plain.stop();
  }
});

test('a strategy module’s parameters complete in a trusted workspace, not in an untrusted one', async () => {
  const { text, position } = cursor(`study "s" {\n  strategy module "strategies/breakout.js"\n  stage "a" {\n    param <|>\n  }\n}`);
  const uri = s.open('module-study.optstudy', text);
  const items = await s.completion(uri, position);
  assert.deepEqual(labels(items).sort(), ['direction', 'exit_after', 'lookback', 'stop_loss_pct', 'take_profit_pct', 'trail_pct']);
  assert.equal(items.find((i) => i.label === 'lookback').detail, 'int = 20');
  const untrusted = await LspSession.start({ trusted: false });
  try {
    const u = untrusted.open('module-study.optstudy', text);
    assert.deepEqual(await untrusted.completion(u, position), []);
    assert.ok((await untrusted.diagnostics(u)).some((d) => d.code === 'untrusted-workspace'));
  } finally {
    await untrusted.stop();
  }
});

test('commission: the unit words complete after the amount, then margin and mult for contracts', async () => {
  assert.deepEqual(labels(await complete(`study "s" {\n  commission 0.005 <|>\n}`)), ['per']);
  assert.deepEqual(labels(await complete(`study "s" {\n  commission 0.005 per <|>\n}`)).sort(), ['contract', 'share']);
  assert.deepEqual(labels(await complete(`study "s" {\n  commission 2.5 per contract <|>\n}`)).sort(), ['margin', 'mult']);
  assert.deepEqual(labels(await complete(`study "s" {\n  commission 2.5 per contract margin 2000 <|>\n}`)), ['mult']);
});
