/**
 * The optimizer end to end on real price files and real worker threads: determinism across
 * worker counts, stage hand-over, constraints and undefined metrics, several objectives,
 * failure isolation (a throwing and a hanging strategy), cancel, the run host and the CLI.
 */
import { strict as assert } from 'node:assert';
import { fork, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { HostMessage, HostRequest } from '../../protocol/run-host';
import type { RunEvent, TrialEvent } from '../../protocol/run-events';
import { dominates } from '../../server/search';
import { chooseExecutor } from '../../server/host/executors';
import { runStudy, StudyError } from '../../server/run/run-study';
import { analyzeTrials } from '../../server/analysis';
import type { StartLike } from '../../server/analysis/trial-data';
import { loadPrices } from '../../server/data';
import { collector, essence, repoRoot, sampleData, tempStudy, TWO_STAGES } from '../support/run-fixtures';

const ORCL = sampleData('orcl-1995-2014.txt');


test('same seed, same trials and best on 1 and 2 workers; each stage hands its best to the next', async () => {
  const dir = tempStudy({ 's.optstudy': TWO_STAGES });
  const runs = [];
  for (const workers of [1, 2]) {
    const c = collector();
    const end = await runStudy({ file: path.join(dir, 's.optstudy'), workers, out: path.join(dir, `run-${workers}`) }, c.onEvent, new AbortController().signal);
    assert.equal(end.status, 'finished');
    runs.push({ c, end });
  }
  const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
  assert.equal(a.c.trials().length, 16 + 40);
  assert.deepEqual(a.c.trials().map(essence), b.c.trials().map(essence));
  assert.deepEqual(a.end.best, b.end.best);
  // Stage hand-over: every "entry" trial uses the best risk settings found by "risk".
  const risk = a.c.events.find((e) => e.type === 'stage' && e.name === 'risk');
  assert.ok(risk && risk.type === 'stage' && risk.best);
  const riskBest = risk.best.params;
  const entry = a.c.trials().filter((t) => t.stage === 'entry');
  for (const t of entry) {
    assert.equal(t.params.atr_sl_multiplier, riskBest.atr_sl_multiplier);
    assert.equal(t.params.atr_tp_multiplier, riskBest.atr_tp_multiplier);
    assert.ok((t.params.ema_fast as number) < (t.params.ema_slow as number), 'where ema_fast < ema_slow');
    assert.equal(t.params.atr_period, 14, 'an unsearched param keeps its default');
  }
  // The risk stage ran the strategy defaults for the entry params.
  for (const t of a.c.trials().filter((x) => x.stage === 'risk')) assert.deepEqual([t.params.ema_fast, t.params.ema_slow], [12, 26]);
  // Events: start first, end last, the best is the best complete trial.
  assert.equal(a.c.events[0]!.type, 'start');
  assert.equal(a.c.events[a.c.events.length - 1]!.type, 'end');
  const complete = a.c.trials().filter((t) => t.state === 'complete');
  const top = Math.max(...complete.map((t) => t.score as number));
  assert.equal(a.end.best!.score, top);
  // Journal: a header, then each trial once.
  const lines = readFileSync(path.join(dir, 'run-2', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; number?: number });
  assert.equal(lines[0]!.type, 'header');
  const nums = lines.filter((l) => l.type === 'trial').map((l) => l.number!);
  assert.equal(new Set(nums).size, 56);
  assert.equal(nums.length, 56);
});

test('constraints and undefined metrics make trials infeasible with a reason, never NaN', async () => {
  const dir = tempStudy({
    's.optstudy': `
study "pf" {
  data "${sampleData('orcl-2014.txt')}"
  strategy sma_cross
  objective maximize profit_factor
  constraint trades >= 3
  stage "g" {
    param fast in 2 .. 20 step 3
    param slow in 10 .. 60 step 10
    where fast < slow
  }
  seed 1
}`,
  });
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
  const trials = c.trials();
  assert.ok(trials.length > 10);
  const byState = (s: string): TrialEvent[] => trials.filter((t) => t.state === s);
  assert.ok(byState('infeasible').length > 0, 'some trials should break the constraint on one year of data');
  for (const t of byState('infeasible')) {
    assert.equal(t.score, null);
    assert.match(t.error ?? '', /constraint 'trades >= 3'|objective 'profit_factor' is undefined/);
  }
  for (const t of byState('complete')) {
    assert.ok(typeof t.score === 'number' && Number.isFinite(t.score));
    assert.ok((t.metrics.trades_closed as number) >= 3);
  }
  assert.ok(!JSON.stringify(c.events).includes('NaN'));
  assert.equal(end.best!.score, Math.max(...byState('complete').map((t) => t.score as number)));
});

test('several objectives: scores are arrays and the end event carries the complete non-dominated front', async () => {
  const dir = tempStudy({
    's.optstudy': `
study "mo" {
  data "${ORCL}" from 2008-01-01 to 2014-12-31
  strategy sma_cross
  objectives {
    maximize sharpe
    minimize max_drawdown_pct
  }
  stage "ga" {
    search genetic { trials 60, population 20 }
    param fast in 2 .. 60 step 1
    param slow in 10 .. 250 step 5
    where fast < slow
  }
  seed 3
}`,
  });
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
  const complete = c.trials().filter((t) => t.state === 'complete');
  assert.ok(complete.length > 30);
  for (const t of complete) assert.ok(Array.isArray(t.score) && t.score.length === 2);
  const loss = (s: number[]): number[] => [-s[0]!, s[1]!];
  const brute = complete.filter((t) => !complete.some((u) => dominates(loss(u.score as number[]), loss(t.score as number[])))).map((t) => t.number);
  assert.ok(end.pareto && end.pareto.length > 0);
  assert.deepEqual(end.pareto.map((p) => p.number).sort((x, y) => x! - y!), brute.sort((x, y) => x - y));
});

test('a throwing and a hanging strategy fail alone with their reasons; the run finishes', async () => {
  const dir = tempStudy({
    'flaky.js': `
module.exports = {
  name: 'flaky',
  params: [{ name: 'x', type: 'int', default: 1, doc: 'x' }],
  setup(ctx, p) {
    if (p.x === 3) throw new Error('x = 3 is not allowed');
    if (p.x === 5) { for (;;) {} }
    const fast = ctx.sma(2 + p.x);
    const slow = ctx.sma(30);
    return (c) => { if (fast[c.i] > slow[c.i]) c.buy(); else if (c.position > 0) c.close(); };
  },
};`,
    's.optstudy': `
study "flaky" {
  data "${sampleData('orcl-2014.txt')}"
  strategy module "flaky.js"
  objective maximize total_return_pct
  stage "all" {
    param x in 1 .. 8 step 1
  }
  timeout 1s
  retries 1
  seed 1
}`,
  });
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'run'), createExecutor: chooseExecutor }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const t = c.trials();
  assert.equal(t.length, 8);
  const x = (n: number): TrialEvent => t.find((e) => e.params.x === n)!;
  assert.equal(x(3).state, 'failed');
  assert.match(x(3).error!, /x = 3 is not allowed/);
  assert.equal(x(5).state, 'failed');
  assert.match(x(5).error!, /timed out after 1000 ms/);
  for (const n of [1, 2, 4, 6, 7, 8]) assert.equal(x(n).state, 'complete', `x=${n}: ${x(n).error}`);
  // Untrusted workspaces refuse module strategies before running anything.
  await assert.rejects(
    runStudy({ file: path.join(dir, 's.optstudy'), trusted: false, out: path.join(dir, 'run2') }, () => {}, new AbortController().signal),
    (e: unknown) => e instanceof StudyError && /trusted workspace/.test(e.message),
  );
});

test('cancel stops cleanly, keeps finished trials in the journal, and ends with status cancelled', async () => {
  const dir = tempStudy({ 's.optstudy': TWO_STAGES });
  const ac = new AbortController();
  const c = collector();
  const end = await runStudy(
    { file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'run') },
    (e) => {
      c.onEvent(e);
      if (e.type === 'trial' && c.trials().length === 20) ac.abort();
    },
    ac.signal,
  );
  assert.equal(end.status, 'cancelled');
  assert.ok(end.trials >= 20 && end.trials < 56, String(end.trials));
  const journal = readFileSync(path.join(dir, 'run', 'journal.jsonl'), 'utf8').trim().split('\n');
  assert.equal(journal.filter((l) => l.includes('"type":"trial"')).length, end.trials);
  // Resuming finishes it with the uninterrupted result.
  const r = collector();
  const resumed = await runStudy({ file: path.join(dir, 's.optstudy'), resume: path.join(dir, 'run') }, r.onEvent, new AbortController().signal);
  const u = collector();
  const full = await runStudy({ file: path.join(dir, 's.optstudy'), workers: 1, out: path.join(dir, 'full') }, u.onEvent, new AbortController().signal);
  assert.equal(resumed.status, 'finished');
  assert.deepEqual(resumed.best, full.best);
  assert.deepEqual(r.trials().map(essence), u.trials().map(essence));
});

test('the run host streams every event over IPC and exits after end; cancel works through it', async () => {
  const dir = tempStudy({ 's.optstudy': TWO_STAGES });
  const host = path.join(repoRoot(), 'dist', 'run-host.js');
  const runHost = (req: HostRequest, cancelAfter?: number): Promise<{ events: RunEvent[]; code: number | null }> =>
    new Promise((resolve, reject) => {
      const child = fork(host, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      const events: RunEvent[] = [];
      let trials = 0;
      child.on('message', (m: HostMessage) => {
        for (const e of m.type === 'events' ? m.events : [m.event]) {
          events.push(e);
          if (e.type === 'trial' && ++trials === cancelAfter) child.send({ type: 'cancel' } satisfies HostRequest);
        }
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve({ events, code }));
      child.send(req);
    });
  const full = await runHost({ type: 'run', file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'h1') });
  assert.equal(full.code, 0);
  assert.equal(full.events[0]!.type, 'start');
  const end = full.events[full.events.length - 1]!;
  assert.ok(end.type === 'end' && end.status === 'finished' && end.trials === 56);
  assert.ok(full.events.some((e) => e.type === 'analysis'), 'the host sends analysis snapshots');
  const cancelled = await runHost({ type: 'run', file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'h2') }, 10);
  const cend = cancelled.events[cancelled.events.length - 1]!;
  assert.ok(cend.type === 'end' && cend.status === 'cancelled', JSON.stringify(cend).slice(0, 200));
  // A study with errors: the host reports them and ends as failed.
  const bad = tempStudy({ 'b.optstudy': 'study "b" {\n  data "nowhere.txt"\n  strategy sma_cross\n  objective maximize sharpness\n}\n' });
  const failed = await runHost({ type: 'run', file: path.join(bad, 'b.optstudy') });
  const fend = failed.events[failed.events.length - 1]!;
  assert.ok(fend.type === 'end' && fend.status === 'failed');
  assert.ok(failed.events.some((e) => e.type === 'log' && /b\.optstudy:4:/.test(e.message)));
});

test('optstudy run: --json prints one event per line; a study with errors prints file:line and exits 1', () => {
  const dir = tempStudy({ 's.optstudy': TWO_STAGES, 'b.optstudy': 'study "b" {\n  strategy sma_cross\n  objective maximize sharpness\n}\n' });
  const cli = path.join(repoRoot(), 'dist', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'run', path.join(dir, 's.optstudy'), '--json', '--workers', '2', '--out', path.join(dir, 'cli')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
  assert.equal(events[0]!.type, 'start');
  assert.equal(events[events.length - 1]!.type, 'end');
  assert.equal(events.filter((e) => e.type === 'trial').length, 56);
  const b = spawnSync(process.execPath, [cli, 'run', path.join(dir, 'b.optstudy')], { encoding: 'utf8' });
  assert.equal(b.status, 1);
  assert.match(b.stderr, /b\.optstudy:3:\d+: error: .*sharpness/);
  const t = spawnSync(process.execPath, [cli, 'run', path.join(dir, 's.optstudy'), '--out', path.join(dir, 'table'), '--workers', '1'], { encoding: 'utf8' });
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /Top 10 by maximize sharpe/);
  assert.match(t.stdout, /ema_fast\s+ema_slow/);
});

test('early_stop ends a stage after `patience` trials without improvement; warm_start seeds a later run', async () => {
  const dir = tempStudy({
    's.optstudy': `
study "es" {
  data "${ORCL}" from 2005-01-01 to 2014-12-31
  strategy sma_cross
  objective maximize sharpe
  stage "r" {
    search random { trials 400 }
    param fast in 2 .. 60 step 1
    param slow in 10 .. 250 step 1
    where fast < slow
    early_stop { patience 25, min_delta 0 }
  }
  seed 5
}`,
  });
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const stage = c.events.find((e) => e.type === 'stage');
  assert.ok(stage && stage.type === 'stage');
  assert.equal(stage.stoppedBy, 'early_stop');
  const trials = c.trials();
  assert.ok(trials.length < 400, `${trials.length} trials`);
  // The last improvement came at least `patience` trials before the stop (in trial order).
  let best = -Infinity;
  let lastImprovement = -1;
  for (const t of trials)
    if (t.state === 'complete' && (t.score as number) > best) {
      best = t.score as number;
      lastImprovement = t.number;
    }
  assert.ok(trials.length - 1 - lastImprovement >= 25, `stopped ${trials.length - 1 - lastImprovement} trials after the last improvement`);
  assert.equal(end.best!.score, best);

  const warm = tempStudy({
    'w.optstudy': `
study "warm" {
  data "${ORCL}" from 2005-01-01 to 2014-12-31
  strategy sma_cross
  objective maximize sharpe
  stage "t" {
    search tpe { trials 20, init 5 }
    param fast in 2 .. 60 step 1
    param slow in 10 .. 250 step 1
    where fast < slow
  }
  warm_start "${path.join(dir, 'run')}"
  seed 5
}`,
  });
  const w = collector();
  const wend = await runStudy({ file: path.join(warm, 'w.optstudy'), workers: 2, out: path.join(warm, 'run') }, w.onEvent, new AbortController().signal);
  assert.equal(wend.status, 'finished');
  assert.ok(w.events.some((e) => e.type === 'log' && e.message.startsWith(`warm start: ${trials.filter((t) => t.state === 'complete').length} trials`)));
  // Without init trials to spend, the model starts from the warm trials: its first proposals
  // differ from a cold run with the same seed.
  const cold = tempStudy({ 'w.optstudy': readFileSync(path.join(warm, 'w.optstudy'), 'utf8').replace(/warm_start "[^"]*"/, '') });
  const k = collector();
  await runStudy({ file: path.join(cold, 'w.optstudy'), workers: 2, out: path.join(cold, 'run') }, k.onEvent, new AbortController().signal);
  assert.notDeepEqual(
    w.trials().map((t) => t.params),
    k.trials().map((t) => t.params),
  );
});

test('a grid several batches long with batches overlapping: every combination once, the best is the first of the tied best, the journal holds each trial once', async () => {
  // 60 × 97 − (fast ≥ slow) > 2 · 2048: several overlapping batches on 2 workers.
  const dir = tempStudy({
    's.optstudy': `
study "big grid" {
  data "${ORCL}" from 2010-01-01 to 2014-12-31
  strategy sma_cross
  objective minimize trades_closed
  stage "s" {
    param fast in 2 .. 61 step 1
    param slow in 10 .. 300 step 3
    where fast < slow
  }
  seed 3
}`,
  });
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 's.optstudy'), workers: 2, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const trials = c.trials();
  let expected = 0;
  for (let fast = 2; fast <= 61; fast++) for (let slow = 10; slow <= 300; slow += 3) if (fast < slow) expected++;
  assert.ok(expected > 4096, `${expected} combinations`);
  assert.equal(trials.length, expected);
  assert.equal(new Set(trials.map((t) => `${t.params.fast}/${t.params.slow}`)).size, expected);
  assert.deepEqual(
    trials.map((t) => t.number).sort((a, b) => a - b),
    trials.map((_, i) => i),
  );
  // Over a hundred combinations tie for the fewest trades: the best is the lowest-numbered of them,
  // whichever worker finished first.
  const complete = trials.filter((t) => t.state === 'complete');
  const top = Math.min(...complete.map((t) => t.score as number));
  const tied = complete.filter((t) => t.score === top).sort((a, b) => a.number - b.number);
  assert.ok(tied.length > 10, `${tied.length} tied`);
  const first = tied[0]!;
  assert.equal(end.best?.number, first.number);
  const stage = c.events.find((e) => e.type === 'stage');
  assert.ok(stage?.type === 'stage' && stage.best?.number === first.number && stage.trials === expected);
  const lines = readFileSync(path.join(dir, 'run', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; number?: number });
  const nums = lines.filter((l) => l.type === 'trial').map((l) => l.number);
  assert.equal(nums.length, expected);
  assert.equal(new Set(nums).size, expected);
});

test("the Deflated Sharpe's T is the window's calendar days (the sharpe metric's daily returns): 5-minute bars over 21 days, a holdout head", async () => {
  const text = readFileSync(path.join(repoRoot(), 'samples', 'intraday-5min.optstudy'), 'utf8')
    .replace('"data/2006-min-005.txt"', `"${sampleData('2006-min-005.txt')}"`)
    .replace('  workers 2', '  workers 2\n  validate holdout 30%');
  const dir = tempStudy({ 's.optstudy': text });
  const c = collector();
  const analyze = (t: TrialEvent[], s: unknown, final: boolean) => analyzeTrials(t, s as StartLike, { final });
  const end = await runStudy({ file: path.join(dir, 's.optstudy'), out: path.join(dir, 'run'), analyze }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const start = c.events.find((e) => e.type === 'start') as { tradingDays?: number };
  // The holdout's head: 70 % of the 2,142 bars, which fall on 15 of the file's 21 days.
  const bars = loadPrices(sampleData('2006-min-005.txt'));
  const head = Math.floor(bars.bars * 0.7);
  const days = new Set(Array.from(bars.date.subarray(0, head))).size;
  assert.ok(days < 21 && days * 50 < head, `${days} days in ${head} bars`);
  assert.equal(start.tradingDays, days);
  const last = c.events.filter((e) => e.type === 'analysis').pop() as { snapshot: { deflatedSharpe?: { observations: number } } } | undefined;
  assert.equal(last?.snapshot.deflatedSharpe?.observations, days);
});
