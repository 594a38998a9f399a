/**
 * `optstudy run --json` gathers trial lines and writes them together (server/cli/run-printer.ts).
 * A trial that arrives just after another line was written — the last answer before the rest of
 * its batch hangs — must still reach the reader with no further event to carry it out (CI once
 * waited 120 s for such a trial).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { TrialEvent } from '../../protocol/run-events';
import { jsonPrinter } from '../../server/cli/run-printer';
import { EventBatch } from '../../server/run/trial-batch';

const trial = (number: number): TrialEvent => ({ type: 'trial', stage: 'all', number, params: { x: number }, durationMs: 1, metrics: { sharpe: number }, score: number, state: 'complete' });

test('a trial gathered right after another line is written without any further event', async () => {
  const written: string[] = [];
  const printer = jsonPrinter({ out: (t) => void written.push(typeof t === 'string' ? t : Buffer.from(t).toString('utf8')), err: () => {}, isTTY: false });
  printer.listener({ type: 'progress', stage: 'all', done: 1, total: 6, rate: 1, etaMs: null });
  printer.listener.trials!(new EventBatch('all', [trial(1)]));
  // Nothing else comes: the printer alone must write it (within its gathering interval; the
  // deadline is only there so that a broken printer fails instead of hanging).
  for (const t0 = Date.now(); !written.join('').includes('"number":1'); await new Promise((r) => setTimeout(r, 10)))
    assert.ok(Date.now() - t0 < 10_000, `the trial was never written: ${JSON.stringify(written)}`);
  const lines = written.join('').split('\n').filter(Boolean);
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { type: string }).type), ['progress', 'trial']);
  printer.close();
});

test('trials gathered together come out once, in order, with the next event before it', () => {
  const written: string[] = [];
  const printer = jsonPrinter({ out: (t) => void written.push(typeof t === 'string' ? t : Buffer.from(t).toString('utf8')), err: () => {}, isTTY: false });
  printer.listener({ type: 'log', level: 'info', message: 'first' });
  printer.listener.trials!(new EventBatch('all', [trial(1), trial(2)]));
  printer.listener.trials!(new EventBatch('all', [trial(3)]));
  printer.listener({ type: 'log', level: 'info', message: 'next' });
  printer.close();
  const lines = written.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; number?: number; message?: string });
  assert.deepEqual(lines.map((l) => l.number ?? l.message), ['first', 1, 2, 3, 'next']);
});
