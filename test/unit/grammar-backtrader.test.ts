/**
 * `strategy NAME backtrader "SPEC"` in the language, without Python: the SPEC's form is
 * checked, a basket is refused (the bridge runs one Cerebro per trial), and what the host's
 * describe step answers (parameters, analyzers) is what the checks use.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analyze, type BacktraderDescription } from '../../grammar/index';

const study = (spec: string, data: string, objective = 'sharpe', param = 'pfast') => `strategy sma backtrader "${spec}"
study "s" {
  ${data}
  strategy sma
  objective maximize ${objective}
  stage "g" {
    param ${param} in 5 .. 10 step 5
  }
}
`;

// What the bridge answers for samples/backtrader/smacross.py:make_cerebro (a real answer's shape).
const described: BacktraderDescription = {
  schema: { name: 'SmaCross', doc: 'cerebro factory', params: [{ name: 'pfast', type: 'int', default: 10, doc: '' }, { name: 'pslow', type: 'int', default: 30, doc: '' }], analyzers: ['rodd', 'ta'] },
  complete: true,
};
const errors = (text: string, schemas?: (spec: string) => BacktraderDescription | undefined) =>
  analyze(text, schemas ? { backtraderSchemas: schemas } : {}).diagnostics.filter((d) => d.severity === 'error');

test('a SPEC that is not FILE.py:NAME is an error on the string', () => {
  const e = errors(study('smacross.py', 'data "d.txt"'));
  assert.equal(e.length, 1, JSON.stringify(e));
  assert.equal(e[0]!.code, 'backtrader-spec');
  assert.match(e[0]!.message, /is not FILE\.py:NAME/);
});

test('a data basket with a backtrader strategy is refused with what to write instead', () => {
  const e = errors(study('smacross.py:make_cerebro', 'data basket ["a.txt", "b.txt"]'));
  assert.ok(e.some((d) => /basket is not supported for it; write data \[\.\.\.\]/.test(d.message)), JSON.stringify(e));
  assert.deepEqual(errors(study('smacross.py:make_cerebro', 'data ["a.txt", "b.txt"]')), [], 'several feeds are fine');
});

test('the described parameters and analyzers are what the checks know', () => {
  assert.deepEqual(errors(study('smacross.py:make_cerebro', 'data "d.txt"', 'rodd.ratio', 'pfast'), () => described), []);
  const wrong = errors(study('smacross.py:make_cerebro', 'data "d.txt"', 'sharpe', 'pfst'), () => described);
  assert.ok(wrong.some((d) => /pfst/.test(d.message) && /pfast/.test(d.message)), JSON.stringify(wrong));
  const bad = errors(study('smacross.py:SmaCros', 'data "d.txt"'), () => ({ error: "'smacross.py' has no 'SmaCros' (did you mean 'SmaCross'?)" }));
  assert.equal(bad[0]?.code, 'backtrader-spec');
  assert.match(bad[0]!.message, /did you mean 'SmaCross'/);
});
