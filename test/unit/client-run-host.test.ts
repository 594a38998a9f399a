/**
 * The real run host (dist/run-host.js) driven the way the extension drives it: RunSession
 * forks it, sends the run request, folds every event into the run model; Cancel stops it
 * cleanly with a resumable journal; Resume finishes with the same best as an uninterrupted
 * run; an untrusted workspace refuses a command strategy with a clear message.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventsFromJournal } from '../../client/journal';
import { RunModel } from '../../client/run-model';
import { RunSession, type RunRequest } from '../../client/run-session';
import { readFileSync } from 'node:fs';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HOST = path.join(ROOT, 'dist', 'run-host.js');
const QUICK = path.join(ROOT, 'samples', 'quickstart.optstudy');
const tmp = mkdtempSync(path.join(tmpdir(), 'optstudy-client-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function start(request: Omit<RunRequest, 'type'>, onTrial?: (m: RunModel, s: RunSession) => void, killAfterMs?: number, model = new RunModel('t')) {
  let session: RunSession;
  // eslint-disable-next-line prefer-const
  session = new RunSession({
    hostPath: HOST,
    request: { type: 'run', ...request },
    cwd: path.dirname(request.file),
    killAfterMs,
    onEvent: (e) => {
      model.apply(e);
      if (e.type === 'trial') onTrial?.(model, session);
    },
  });
  return { model, session };
}

test('a run streams start, trials, progress, stage and end into the model', { skip: !existsSync(HOST) && 'dist/run-host.js not built' }, async () => {
  const out = path.join(tmp, 'full');
  const { model, session } = start({ file: QUICK, out, workers: 2, trusted: true });
  const outcome = await session.done;
  assert.equal(outcome.end.status ?? 'finished', 'finished', outcome.stderr);
  assert.equal(model.header.status, 'finished');
  assert.equal(model.header.study, 'SMA cross quickstart');
  assert.equal(model.trials.length, 174);
  assert.equal(model.header.done, 174);
  assert.ok(model.best && typeof model.best.score === 'number');
  assert.equal(model.header.stages[0]!.finished, true);
  assert.ok(existsSync(path.join(out, 'journal.jsonl')));
  // The journal reopens into the same result.
  const back = new RunModel('j');
  for (const e of eventsFromJournal(readFileSync(path.join(out, 'journal.jsonl'), 'utf8'), out).events) back.apply(e);
  assert.equal(back.trials.length, 174);
  assert.deepEqual(back.best?.params, model.best!.params);
});

test('Cancel stops the run cleanly; Resume finishes it with the uninterrupted best', { skip: !existsSync(HOST) && 'dist/run-host.js not built' }, async () => {
  // A grid big enough that the cancel lands mid-run (the quickstart now finishes before the
  // first batch of events reaches the client).
  const dir = mkdtempSync(path.join(tmp, 'cancel-'));
  const file = path.join(dir, 'grid.optstudy');
  // The data beside the study: a run refuses data outside the study's folder.
  copyFileSync(path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt'), path.join(dir, 'orcl.txt'));
  writeFileSync(
    file,
    readFileSync(QUICK, 'utf8')
      .replace('"data/orcl-1995-2014.txt"', '"orcl.txt"')
      .replace('param fast in 5 .. 50 step 5', 'param fast in 2 .. 80 step 1')
      .replace('param slow in 20 .. 200 step 10', 'param slow in 10 .. 300 step 2'),
  );
  const uninterrupted = start({ file, out: path.join(dir, 'full'), workers: 2, trusted: true });
  const whole = await uninterrupted.session.done;
  assert.equal(whole.end.status ?? 'finished', 'finished', whole.stderr);
  const total = uninterrupted.model.trials.length;
  const out = path.join(dir, 'cancelled');
  // A long grace before a forced kill: on a loaded machine a clean stop can take seconds, and
  // this test is about the host stopping by itself, not about how fast.
  const { model, session } = start({ file, out, workers: 2, trusted: true }, (m, s) => {
    if (m.trials.length >= 20) s.cancel();
  }, 120_000);
  const outcome = await session.done;
  assert.equal(outcome.end.status, 'cancelled');
  assert.ok(model.trials.length >= 20 && model.trials.length < total, `${model.trials.length} of ${total} trials before the cancel took effect`);
  assert.equal(outcome.signal, null, `the host exited by itself, not killed; its stderr: ${outcome.stderr}`);
  // The extension seeds a resumed run from its journal (#19-5: no blank "0 / N" while the host
  // replays), and the host's replay of those trials is not counted twice.
  const seeded = new RunModel('resumed');
  seeded.seed(eventsFromJournal(readFileSync(path.join(out, 'journal.jsonl'), 'utf8'), out).events);
  const kept = seeded.trials.length;
  assert.ok(kept >= 20, `the journal's ${kept} trials show before the host says anything`);
  assert.equal(seeded.header.done, kept);
  assert.equal(seeded.header.status, 'starting');
  const resumed = start({ file, resume: out, workers: 2, trusted: true }, undefined, undefined, seeded);
  const r2 = await resumed.session.done;
  assert.equal(seeded.trials.length, total, 'every trial once: the replayed ones were not added again');
  assert.equal(seeded.header.done, total);
  assert.equal(new Set(seeded.trials.map((t) => t.n)).size, total);
  assert.equal(r2.end.status ?? 'finished', 'finished', r2.stderr);
  assert.equal(r2.end.trials, total);
  assert.deepEqual(r2.end.best?.params, whole.end.best!.params);
  assert.equal(r2.end.best?.score, whole.end.best!.score);
});

test('an untrusted workspace refuses a command strategy and says why', { skip: !existsSync(HOST) && 'dist/run-host.js not built' }, async () => {
  const file = path.join(ROOT, 'samples', 'python-strategy.optstudy');
  const { model, session } = start({ file, out: path.join(tmp, 'untrusted'), trusted: false });
  const outcome = await session.done;
  assert.equal(outcome.end.status, 'failed');
  assert.match(outcome.end.error ?? '', /trusted workspace/);
  assert.equal(model.trials.length, 0);
});

test('a host that cannot start ends the run as failed instead of hanging', async () => {
  const { session } = start({ file: QUICK, trusted: true });
  session.kill();
  const outcome = await session.done;
  assert.ok(outcome.end.status === 'cancelled' || outcome.end.status === 'failed');
  const missing = new RunSession({ hostPath: path.join(tmp, 'no-such-host.js'), request: { type: 'run', file: QUICK }, onEvent: () => undefined });
  const o2 = await missing.done;
  assert.equal(o2.end.status, 'failed');
  assert.match(o2.end.error ?? '', /exited|could not start/);
});

test('Cancel ends a large fast grid promptly: the end arrives, the host exits by itself, the journal matches', { skip: !existsSync(HOST) && 'dist/run-host.js not built' }, async () => {
  // ~100,000 combinations of a fast strategy: far more trials than the cancel lets run, so
  // the events stream (batched by the host) while the cancel travels the other way.
  const dir = mkdtempSync(path.join(tmp, 'big-'));
  const file = path.join(dir, 'big.optstudy');
  copyFileSync(path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt'), path.join(dir, 'orcl.txt'));
  writeFileSync(
    file,
    `study "big grid" {
  data "orcl.txt"
  strategy sma_cross
  objective maximize sharpe
  stage "s" {
    search grid
    param fast in 2 .. 201 step 1
    param slow in 10 .. 5009 step 10
  }
  seed 3
}
`,
  );
  const out = path.join(dir, 'run');
  let cancelledAt = -1;
  const { model, session } = start({ file, out, workers: 2, trusted: true }, (m, s) => {
    if (cancelledAt < 0 && m.trials.length >= 300) {
      cancelledAt = m.trials.length;
      s.cancel();
    }
  }, 60_000);
  // Forced kill only after a generous grace: the host must end on its own.
  const outcome = await session.done;
  assert.ok(cancelledAt >= 300, 'trials streamed before the cancel');
  assert.equal(outcome.end.status, 'cancelled', outcome.stderr);
  assert.equal(outcome.signal, null, `the host exited by itself, not killed; its stderr: ${outcome.stderr}`);
  assert.equal(outcome.exitCode, 0);
  assert.equal(model.header.status, 'cancelled');
  assert.ok(outcome.end.trials < 100_000, `${outcome.end.trials} trials: the cancel stopped the grid`);
  assert.equal(model.trials.length, outcome.end.trials, 'every finished trial reached the client exactly once');
  const lines = readFileSync(path.join(out, 'journal.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('{"type":"trial"')).length, outcome.end.trials, 'the journal holds the finished trials');
});
