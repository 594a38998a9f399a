/**
 * The gallery's backtrader sample (samples/backtrader/smacross.py: backtrader's SMA crossover,
 * the custom sizer LongOnlyPercent, the custom analyzer `rodd`) against that script's own Cerebro
 * under backtrader's `cerebro.optstrategy`: OptStudy runs `make_cerebro(**params)` per trial on
 * the sample study's data statement and its grid (every pfast < pslow) for two values of the
 * sizer's `percent`; optstrategy runs `make_cerebro(percent=P)` with the strategy's parameters
 * optimized (the way a user without OptStudy searches a sizer parameter: one optstrategy per
 * value). Every combination's metrics — the standard set, rodd.*, ta.*, sqn.* — must be
 * identical (`===`). Real backtrader, the sample file itself (not a copy).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/run-fixtures';
import { backtraderMissing, optstrategy } from './backtrader-env';
import { assertSameAsOptstrategy, optstudyGrid } from './backtrader-runs';

const skip = backtraderMissing();

test("the gallery sample's cerebro factory gives what its own Cerebro gives under cerebro.optstrategy, combination by combination", { skip, timeout: 600_000 }, async () => {
  const samples = path.join(repoRoot(), 'samples');
  const spec = `${path.join(samples, 'backtrader', 'smacross.py')}:make_cerebro`;
  // The sample study's own data statement (the window its factory loads), with the path made absolute.
  const study = readFileSync(path.join(samples, 'backtrader-sma-cross.optstudy'), 'utf8');
  const data = /^\s*data\s+"([^"]+)"(.*)$/m.exec(study);
  assert.ok(data, 'the sample study has a data statement');
  const pfast = [5, 10, 15, 20, 25, 30];
  const pslow = [20, 40, 60, 80, 100];
  const percents = [50, 95];
  const trials = await optstudyGrid(
    spec,
    `    param pfast in 5 .. 30 step 5\n    param pslow in 20 .. 100 step 20\n    where pfast < pslow\n    param percent in [${percents.join(', ')}]`,
    `data "${path.join(samples, data[1]!)}"${data[2]}`,
  );
  const expected = percents.flatMap((percent) =>
    optstrategy(spec, { pfast, pslow }, { percent })
      .filter((row) => (row.params.pfast as number) < (row.params.pslow as number))
      .map((row) => ({ ...row, params: { ...row.params, percent } })),
  );
  assert.equal(expected.length, 54);
  assert.ok(
    expected.some((row) => typeof row.metrics['rodd.ratio'] === 'number') && expected.some((row) => typeof row.metrics['ta.total.closed'] === 'number'),
    'the custom analyzer and TradeAnalyzer are compared',
  );
  assertSameAsOptstrategy(expected, trials, 'samples/backtrader/smacross.py:make_cerebro');
});
