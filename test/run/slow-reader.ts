/**
 * Shared by the backpressure tests (json-printer, host-backpressure): a 30,000-trial grid of
 * ~2 KB trial lines — far more than a run may leave unread — and a wait until its journal stops
 * growing (the run holds back while nobody reads its output).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { sampleData } from '../support/run-fixtures';

export const SLOW_READER_TRIALS = 30_000;

export function slowReaderStudy(): string {
  return `
study "slow reader" {
  data "${sampleData('orcl-2014.txt')}"
  strategy sma_cross
  objective maximize sharpe
  stage "grid" {
    param fast in 2 .. 151 step 1
    param slow in 10 .. 209 step 1
  }
  workers 1
  seed 1
}`;
}

/** Trial lines in the journal of run folder `out` (0 before it exists). */
export function journaled(out: string): number {
  try {
    return (readFileSync(path.join(out, 'journal.jsonl'), 'latin1').match(/\{"type":"trial"/g) ?? []).length;
  } catch {
    return 0;
  }
}

/**
 * Resolves with the journal's trial count once it stopped growing (three looks 500 ms apart);
 * `alive()` throws (an assertion) when the run's process ended meanwhile.
 */
export async function untilJournalStalls(out: string, describe: () => string, alive: () => void = () => {}): Promise<number> {
  let last = -1;
  for (let stable = 0, t0 = Date.now(); stable < 3; await new Promise((r) => setTimeout(r, 500))) {
    assert.ok(Date.now() - t0 < 120_000, `the journal never stopped growing (${journaled(out)} trials); ${describe()}`);
    alive();
    const n = journaled(out);
    stable = n > 0 && n === last ? stable + 1 : 0;
    last = n;
  }
  assert.ok(last < SLOW_READER_TRIALS, `the run went on without its reader: ${last} of ${SLOW_READER_TRIALS} trials journaled`);
  return last;
}
