/**
 * `optstudy run --json` gathers trial lines and writes them together (server/cli/run-printer.ts).
 * A trial that arrives just after another line was written — the last answer before the rest of
 * its batch hangs — must still reach the reader with no further event to carry it out (CI once
 * waited 120 s for such a trial). And a reader that falls behind holds the run back rather than
 * letting unread output grow in memory (the 10M-grid bench's reader took 590 MB of the CLI's RSS).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TrialEvent } from '../../protocol/run-events';
import { jsonPrinter } from '../../server/cli/run-printer';
import { EventBatch } from '../../server/run/trial-batch';
import { repoRoot, tempStudy } from '../support/run-fixtures';
import { journaled, SLOW_READER_TRIALS, slowReaderStudy, untilJournalStalls } from './slow-reader';

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

test('optstudy run --json waits for a reader that falls behind instead of piling its output up in memory', async (t) => {
  const dir = tempStudy({ 's.optstudy': slowReaderStudy() });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'run');
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', path.join(dir, 's.optstudy'), '--json', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => void (child.exitCode === null && child.kill('SIGKILL')));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout.pause(); // nobody reads
  // The run stops taking new batches: the journal stops growing, short of the grid.
  await untilJournalStalls(out, () => `stderr: ${err}`);
  // Read again: the run goes on to the end, every trial printed.
  let lines = 0;
  let tail = '';
  child.stdout.on('data', (d: Buffer) => {
    const s = tail + d.toString('latin1');
    const parts = s.split('\n');
    tail = parts.pop()!;
    for (const p of parts) if (p.startsWith('{"type":"trial"')) lines++;
  });
  child.stdout.resume();
  assert.equal(await exited, 0, err);
  assert.equal(lines, SLOW_READER_TRIALS);
  assert.equal(journaled(out), SLOW_READER_TRIALS);
});
