/**
 * The Python entry point (python/optstudy): a script declares a study — parameter space,
 * weighted objective, constraint, two stages with different search methods, workers — and gets
 * the best parameters, every trial and the analysis, from the same engine as the CLI. Checked
 * against the CLI on the study the package wrote, and on a real backtrader factory.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot, sampleData } from '../support/run-fixtures';
import { backtraderMissing, fixture } from './backtrader-env';
import { scratchStudy } from './procs';

const skip = backtraderMissing();

function python(dir: string, script: string): { status: number | null; stdout: string; stderr: string } {
  writeFileSync(path.join(dir, 'script.py'), script);
  const env = {
    ...process.env,
    PYTHONPATH: [path.join(repoRoot(), 'python'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
    OPTSTUDY_CLI: path.join(repoRoot(), 'dist', 'cli.js'),
    OPTSTUDY_NODE: process.execPath,
  };
  return spawnSync(process.env.OPTSTUDY_PYTHON || 'python3', ['script.py'], { cwd: dir, env, encoding: 'utf8', timeout: 240_000 });
}

/** A scratch folder holding what the study names (a run refuses files outside the study's folder). */
function studyFolder(): string {
  const dir = scratchStudy({});
  copyFileSync(sampleData('orcl-1995-2014.txt'), path.join(dir, 'orcl-1995-2014.txt'));
  copyFileSync(fixture('parity.py'), path.join(dir, 'parity.py'));
  return dir;
}

test('a script runs a study through the package and gets what the CLI gets for the same study', { timeout: 300_000 }, () => {
  const dir = studyFolder();
  const r = python(
    dir,
    `import json, optstudy as ops
study = ops.Study("py sma", strategy="sma_cross", data="orcl-1995-2014.txt",
    start="2005-01-01", end="2014-12-31", cash=100000, commission="0.1%", sizing="percent 95",
    objective=ops.maximize({"sharpe": 0.7, "calmar": 0.3}), constraints=["trades >= 5"],
    stages=[ops.Stage("grid", {"fast": range(5, 25, 5), "slow": ops.Range(30, 90, step=30)}, where="fast < slow"),
            ops.Stage("fine", {"fast": ops.Range(3, 30, step=1)}, search="random", trials=6)],
    workers=2, seed=11)
res = study.run(out="run-py", quiet=True)
a = res.analysis()
print(json.dumps({"best": res.best.params, "score": res.best.score, "n": len(res.trials), "counts": res.counts,
                  "file": study.path(), "status": res.status, "analysis": sorted(a.keys())}))
`,
  );
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { best: Record<string, number>; score: number; n: number; counts: Record<string, number>; file: string; status: string; analysis: string[] };
  assert.equal(got.status, 'finished');
  assert.equal(got.n, 4 * 3 + 6); // the grid (every fast < slow) and six random trials
  assert.equal(got.counts.complete + got.counts.infeasible + got.counts.failed, got.n);
  assert.ok(got.analysis.length > 0);
  // The study file it wrote, run by the CLI itself: the same trials and the same best.
  const text = readFileSync(got.file, 'utf8');
  assert.match(text, /objective maximize 0\.7 \* sharpe \+ 0\.3 \* calmar/);
  assert.match(text, /param fast in 5 \.\. 20 step 5/);
  const cli = spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', got.file, '--json', '--out', path.join(dir, 'run-cli')], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const end = JSON.parse(cli.stdout.trim().split('\n').pop()!) as { best: { params: Record<string, number>; score: number } };
  assert.deepEqual(end.best.params, got.best);
  assert.equal(end.best.score, got.score);
  assert.ok(readdirSync(dir).includes('run-py'));
});

test('a script optimizes a backtrader cerebro factory and reads its analyzer as the objective', { skip, timeout: 300_000 }, () => {
  const dir = studyFolder();
  const r = python(
    dir,
    `import json, optstudy as ops
study = ops.Study("py bt", strategy="parity.py:analyzers", data="orcl-1995-2014.txt",
    objective="vwr.vwr", stages=[ops.Stage("grid", {"pfast": [5, 10], "pslow": [30, 50]})], workers=2)
res = study.run(quiet=True)
print(json.dumps({"best": res.best.params, "vwr": res.best.metrics.get("vwr.vwr"), "n": len(res.trials), "states": sorted({t.state for t in res.trials})}))
`,
  );
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { best: Record<string, number>; vwr: number; n: number; states: string[] };
  assert.equal(got.n, 4);
  assert.deepEqual(got.states, ['complete']);
  assert.equal(typeof got.vwr, 'number');
  assert.ok([5, 10].includes(got.best.pfast!));
});

test('a study that cannot run raises OptStudyError with the reason, not an empty result', { timeout: 120_000 }, () => {
  const dir = scratchStudy({});
  const r = python(
    dir,
    `import optstudy as ops
study = ops.Study("py outside", strategy="sma_cross", data=${JSON.stringify(sampleData('orcl-1995-2014.txt'))},
    objective="sharpe", stages=[ops.Stage("grid", {"fast": [5, 10]})])
try:
    study.run(quiet=True)
except ops.OptStudyError as e:
    print("ERR", e)
`,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ERR .*outside the study file's folder/m);
});
