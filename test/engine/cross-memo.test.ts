/**
 * The per-thread crossover memo of the fast loop (server/engine/cross-memo.ts): only series an
 * indicator cache made are keys, and a run that holds more crossovers than the memo keeps
 * still sees each of them right (its buffers are not taken over while the run goes on).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { indicators, loadPrices } from '../../server/engine/index';
import { markCached, memoCrossover, startRun } from '../../server/engine/cross-memo';
import { DATA } from '../support/engine-golden';

const close = loadPrices(path.join(DATA, 'orcl-1995-2014.txt')).close;
const n = close.length;

test('a series the cache did not make is never a memo key', () => {
  const own = indicators.sma(close, 5);
  const cached = indicators.sma(close, 20);
  markCached(cached);
  assert.equal(memoCrossover(own, cached, n), null);
  assert.equal(memoCrossover(cached, own, n), null);
});

test('one run with more crossovers than the memo keeps: every one stays right; a later run gets hits', () => {
  const smas = [3, 5, 8, 13, 21, 34, 55, 89].map((p) => indicators.sma(close, p));
  smas.forEach(markCached);
  startRun();
  const got = smas.slice(1).map((s, k) => memoCrossover(smas[k]!, s, n)!);
  got.forEach((c, k) => assert.deepEqual(c.out, indicators.crossover(smas[k]!, smas[k + 1]!), `pair ${k}`));
  assert.equal(new Set(got.map((c) => c.out.buffer)).size, got.length, 'no two crossovers of one run share a buffer');
  startRun();
  const again = memoCrossover(smas[6]!, smas[7]!, n)!;
  assert.equal(again, got[6], 'a recent pair is a hit');
  const fresh = memoCrossover(smas[0]!, smas[7]!, n)!;
  assert.deepEqual(fresh.out, indicators.crossover(smas[0]!, smas[7]!));
  assert.deepEqual(again.out, indicators.crossover(smas[6]!, smas[7]!), 'a hit of this run is not overwritten by its misses');
});
