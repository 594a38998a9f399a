/**
 * The language on whole files: valid studies against reviewed snapshots of their models, and
 * invalid ones against the findings each file lists in its `// expect:` comments.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, type DocumentAnalysis, type Domain } from '../../grammar/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'studies');
const UPDATE = process.env['UPDATE_SNAPSHOTS'] === '1';

function list(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.optstudy') && fs.statSync(path.join(dir, f)).isFile())
    .sort();
}

function domainText(d: Domain): string {
  switch (d.kind) {
    case 'list':
      return `[${d.values.map((v) => JSON.stringify(v)).join(', ')}]`;
    case 'range':
      return `${d.lo} .. ${d.hi} step ${d.step}`;
    case 'continuous':
      return `${d.lo} .. ${d.hi}`;
    case 'log':
      return `log ${d.lo} .. ${d.hi} count ${d.count}`;
  }
}

/** The parts of an analysis a reader checks: what the engine will run, and every finding. */
function summary(a: DocumentAnalysis): unknown {
  return {
    diagnostics: a.diagnostics.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.severity} ${d.code}: ${d.message}`),
    studies: a.studies.map((s) => ({
      name: s.name,
      data: s.data,
      cash: s.cash,
      commission: s.commission,
      sizing: s.sizing,
      strategy: s.strategy && {
        name: s.strategy.name,
        kind: s.strategy.kind,
        command: s.strategy.command,
        module: s.strategy.module,
        params: s.strategy.schema.map((p) => `${p.name}: ${p.type} = ${JSON.stringify(p.default)}`),
        overrides: s.strategy.overrides,
      },
      objectives: s.objectives.map((o) => `${o.direction} ${o.text}`),
      constraints: s.constraints.map((c) => c.text),
      stages: s.stages.map((st) => ({
        name: st.name,
        search: st.search,
        params: st.params.map((p) => `${p.name}: ${p.type} in ${domainText(p.domain)}`),
        where: st.where.length,
        earlyStop: st.earlyStop,
        size: st.size,
        sizeExact: st.sizeExact,
      })),
      workers: s.workers,
      seed: s.seed,
      timeoutMs: s.timeoutMs,
      retries: s.retries,
      earlyStop: s.earlyStop,
      validate: s.validate,
      executor: s.executor,
      warmStart: s.warmStart,
      total: s.total,
      hasErrors: s.hasErrors,
    })),
  };
}

for (const name of list(path.join(FIXTURES, 'valid'))) {
  test(`valid study ${name} matches its snapshot and has no error`, () => {
    const file = path.join(FIXTURES, 'valid', name);
    const a = analyze(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(
      a.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    const snapFile = file.replace(/\.optstudy$/, '.snap.json');
    const actual = JSON.parse(JSON.stringify(summary(a))) as unknown;
    if (UPDATE || !fs.existsSync(snapFile)) {
      fs.writeFileSync(snapFile, JSON.stringify(actual, null, 2) + '\n');
      if (!UPDATE) assert.fail(`wrote a new snapshot ${snapFile}: review it and run again`);
    }
    assert.deepEqual(actual, JSON.parse(fs.readFileSync(snapFile, 'utf8')));
  });
}

test('every sample in samples/ parses; only broken.optstudy has errors', () => {
  const dir = path.join(ROOT, 'samples');
  for (const name of list(dir)) {
    const a = analyze(fs.readFileSync(path.join(dir, name), 'utf8'));
    const errors = a.diagnostics.filter((d) => d.severity === 'error');
    if (name === 'broken.optstudy') assert.ok(errors.length >= 4, `${name}: ${errors.length} errors`);
    else assert.deepEqual(errors, [], name);
    assert.ok(a.studies.length >= 1, name);
  }
});

interface Expectation {
  line: number;
  character: number;
  severity: string;
  code: string;
  message: string;
}

function expectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  for (const m of text.matchAll(/^\/\/ expect: (\d+):(\d+) (\w+) ([\w-]+) "(.*)"$/gm))
    out.push({ line: Number(m[1]), character: Number(m[2]), severity: m[3]!, code: m[4]!, message: m[5]! });
  return out;
}

for (const name of list(path.join(FIXTURES, 'invalid'))) {
  test(`invalid study ${name} reports exactly its listed findings`, () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'invalid', name), 'utf8');
    const expected = expectations(text);
    assert.ok(expected.length > 0, 'the fixture lists what it expects');
    const a = analyze(text);
    const found = a.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
    const show = found.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.severity} ${d.code}: ${d.message}`).join('\n');
    for (const e of expected) {
      const hit = found.find((d) => d.range.start.line + 1 === e.line && d.range.start.character + 1 === e.character && d.code === e.code);
      assert.ok(hit, `expected ${e.line}:${e.character} ${e.code}; found:\n${show}`);
      assert.equal(hit.severity, e.severity, `${e.code} severity`);
      assert.ok(hit.message.includes(e.message), `message of ${e.code}: '${hit.message}' lacks '${e.message}'`);
    }
    assert.equal(found.length, expected.length, `unexpected extra findings:\n${show}`);
    // Every study with an error is marked so the engine refuses to run it.
    for (const s of a.studies) {
      const inside = found.some((d) => d.severity === 'error' && d.range.start.line >= s.range.start.line && d.range.start.line <= s.range.end.line);
      if (inside) assert.equal(s.hasErrors, true, `study "${s.name}" hasErrors`);
    }
  });
}

test('"did you mean" findings carry the replacement for a quick fix', () => {
  const a = analyze('study "s" {\n data "d"\n strategy sma_cros\n objective maximize sharp\n stage "g" { param fsat in [1] }\n}\n');
  const b = analyze('study "s" {\n data "d"\n strategy sma_cross\n objective maximize sharpe\n stage "g" { param fsat in [1] }\n}\n');
  const byCode = new Map([...a.diagnostics, ...b.diagnostics].map((d) => [d.code, d]));
  assert.deepEqual(byCode.get('unknown-strategy')?.data, { replacement: 'sma_cross' });
  assert.deepEqual(byCode.get('unknown-metric')?.data, { replacement: 'sharpe' });
  assert.deepEqual(byCode.get('unknown-parameter')?.data, { replacement: 'fast' });
});

test('duplicates point at the first occurrence with related information', () => {
  const text = fs.readFileSync(path.join(FIXTURES, 'invalid', 'duplicate-study.optstudy'), 'utf8');
  const d = analyze(text).diagnostics.find((x) => x.code === 'duplicate-study');
  assert.ok(d?.related && d.related.length === 1);
  assert.equal(d.related[0]!.range.start.line, 1);
});

test('the study model is what the engine runs: units, defaults and overrides', () => {
  const a = analyze(`study "u" {
  data "x.txt" from 2005-01-01 to 2006-12-31
  commission 0.1%
  sizing percent 95
  strategy rsi_mr { upper = 75 }
  objective maximize sharpe
  stage "g" { param period in 10 .. 20 step 5 }
  timeout 2m
  validate walkforward { folds 5, train 70%, anchored }
}`);
  const s = a.studies[0]!;
  assert.equal(s.commission, 0.001);
  assert.deepEqual(s.sizing, { kind: 'percent', value: 95 });
  assert.equal(s.cash, 100000);
  assert.equal(s.strategy?.name, 'rsi_reversion', 'an alias resolves to the built-in');
  assert.deepEqual(s.strategy?.overrides, { upper: 75 });
  assert.equal(s.timeoutMs, 120000);
  assert.deepEqual(s.validate, { kind: 'walkforward', folds: 5, train: 0.7, anchored: true });
  assert.deepEqual(s.data, { path: 'x.txt', from: '2005-01-01', to: '2006-12-31' });
  assert.deepEqual(s.stages[0]!.search, { method: 'grid', options: {} }, 'a stage without search is a grid');
  assert.equal(s.stages[0]!.size, 3);
  assert.equal(s.hasErrors, false);
});

test('a module strategy takes its schema from the host when it can', () => {
  const text = 'study "m" {\n data "d"\n strategy module "s.ts"\n objective maximize sharpe\n stage "g" { param lookbak in [1, 2] }\n}\n';
  const blind = analyze(text);
  assert.equal(blind.diagnostics.filter((d) => d.severity === 'error').length, 0, 'unknown schema: names are not checked');
  const seeing = analyze(text, {
    moduleSchemas: (p) => (p === 's.ts' ? { name: 'breakout', doc: '', params: [{ name: 'lookback', type: 'int', default: 20, doc: '' }] } : undefined),
  });
  const d = seeing.diagnostics.find((x) => x.code === 'unknown-parameter');
  assert.ok(d && d.message.includes("did you mean 'lookback'"), JSON.stringify(seeing.diagnostics));
  assert.equal(seeing.studies[0]!.strategy?.name, 'breakout');
});

test('semantic tokens classify names by what they resolve to', () => {
  const text = fs.readFileSync(path.join(ROOT, 'samples', 'quickstart.optstudy'), 'utf8');
  const a = analyze(text);
  const lines = text.split('\n');
  const kinds = new Map<string, Set<string>>();
  for (const t of a.tokens ?? []) {
    const word = lines[t.range.start.line]!.slice(t.range.start.character, t.range.end.character);
    if (!kinds.has(word)) kinds.set(word, new Set());
    kinds.get(word)!.add(t.kind);
  }
  assert.deepEqual([...kinds.get('sharpe')!], ['metric']);
  assert.deepEqual([...kinds.get('sma_cross')!], ['strategy']);
  assert.deepEqual([...kinds.get('fast')!], ['parameter']);
  assert.deepEqual([...kinds.get('study')!], ['keyword']);
  assert.deepEqual([...kinds.get('grid')!], ['method']);
  assert.ok(kinds.get('"SMA cross quickstart"')?.has('string'));
  assert.ok([...kinds.keys()].some((k) => k.startsWith('// Quickstart')));
  assert.deepEqual([...kinds.get('2005-01-01')!], ['number']);
});
