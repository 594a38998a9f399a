/**
 * The CLI's progress line (server/run/render.ts) at the widths terminals have: it always fits,
 * and a narrow one loses the bar before the rate and the ETA (the stage and the best come last).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { progressLine } from '../../server/run/render';
import type { ProgressEvent } from '../../protocol/run-events';

const event: ProgressEvent = { type: 'progress', stage: 'grid', done: 2156288, total: 10000000, rate: 35871.2, etaMs: 218_700 };
const best = { params: { fast: 12, slow: 180 }, score: 0.8123, metrics: {}, number: 1, stage: 'grid' };

test('the progress line fits its width and keeps the ETA down to 60 columns', () => {
  for (const width of [60, 79, 100, 159]) {
    const line = progressLine(event, best, ['fast', 'slow'], width);
    assert.ok(line.length <= width, `${width}: ${line.length} > width`);
    assert.match(line, /ETA 3:39/, `${width}: ${line}`);
    assert.match(line, /22% 2156288\/10000000 · 35871 trials\/s/);
  }
  // Wide enough: the whole bar, the stage and the best with its parameters.
  const wide = progressLine(event, best, ['fast', 'slow'], 159);
  assert.match(wide, /^█{4}░{16} /);
  assert.match(wide, /· grid · best 0\.812 \(fast=12 slow=180\)$/);
  // 79 columns: the whole bar, the rest cut with an ellipsis after the ETA.
  const mid = progressLine(event, best, ['fast', 'slow'], 79);
  assert.match(mid, /^█{4}░{16} .*ETA 3:39 · grid …$/);
  // 60 columns: a shorter bar, the line ends at the ETA.
  const narrow = progressLine(event, best, ['fast', 'slow'], 60);
  assert.match(narrow, /^█{2}░{8} .*ETA 3:39$/);
});
