/**
 * The run host (dist/run-host.js) sends its events to a parent over the IPC channel. A parent
 * that stops reading (a busy editor) must hold the run back — the host starts no new batch
 * while MAX_QUEUED events wait (EventBatcher.ready) — instead of the host piling events up in
 * memory; when the parent reads again the run goes on to its end with every trial delivered.
 * The parent here is a plain pipe the test pauses (the IPC channel on fd 3, JSON lines), so
 * nothing reads while it is paused.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import type { HostMessage, HostRequest } from '../../protocol/run-host';
import type { EndEvent } from '../../protocol/run-events';
import { repoRoot, tempStudy } from '../support/run-fixtures';
import { journaled, SLOW_READER_TRIALS, slowReaderStudy, untilJournalStalls } from './slow-reader';

test('a run host whose parent stops reading waits for it, then delivers every trial', async (t) => {
  const dir = tempStudy({ 's.optstudy': slowReaderStudy() });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'run');
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'run-host.js')], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_CHANNEL_FD: '3', NODE_CHANNEL_SERIALIZATION_MODE: 'json' },
  });
  t.after(() => void (child.exitCode === null && child.kill('SIGKILL')));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const channel = child.stdio[3] as Duplex;
  channel.pause(); // nobody reads
  channel.write(JSON.stringify({ type: 'run', file: path.join(dir, 's.optstudy'), out, trusted: true } satisfies HostRequest) + '\n');
  // The run stops taking new batches: the journal stops growing, short of the grid.
  await untilJournalStalls(out, () => `stderr: ${err}`, () => assert.equal(child.exitCode, null, `the host ended while its parent did not read; stderr: ${err}`));
  // Read again: the run goes on to the end, every trial delivered once.
  const numbers = new Set<number>();
  let end: EndEvent | null = null;
  let tail = '';
  channel.on('data', (d: Buffer) => {
    const parts = (tail + d.toString('utf8')).split('\n');
    tail = parts.pop()!;
    for (const line of parts) {
      if (!line) continue;
      const m = JSON.parse(line) as HostMessage;
      for (const e of m.type === 'events' ? m.events : [m.event]) {
        if (e.type === 'trial') numbers.add(e.number);
        if (e.type === 'end') end = e;
      }
    }
  });
  channel.resume();
  assert.equal(await exited, 0, err);
  assert.equal((end as EndEvent | null)?.status, 'finished');
  assert.equal(numbers.size, SLOW_READER_TRIALS);
  assert.equal(journaled(out), SLOW_READER_TRIALS);
});
