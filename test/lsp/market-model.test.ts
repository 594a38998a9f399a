// The market model in the editor, through the built server: hover on the common parameters of
// every strategy (searched and pinned), hover and completion of the cost statements, on a copy of the long/short
// sample opened under samples/ (not written to disk) so its data path resolves.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LspSession, SAMPLES, positionOf, textOf } from '../support/lsp-session';

let s: LspSession;
before(async () => {
  s = await LspSession.start();
});
after(() => s.stop());

const TEXT = fs.readFileSync(path.join(SAMPLES, 'long-short-stops.optstudy'), 'utf8');
/** A document of its own per test (an open document is opened once), beside the samples. */
let opened = 0;
const open = (text: string) => s.open(path.join(SAMPLES, `market-model-${++opened}.optstudy`), text);

test('hover on the common parameters: type, default, what they do, the searched domain', async () => {
  const uri = open(TEXT);
  const stop = await s.hover(uri, positionOf(TEXT, 'param stop_loss_pct', 8));
  assert.match(stop.contents.value, /\*\*stop_loss_pct\*\*: `float` = `0`/);
  assert.match(stop.contents.value, /6 values/);
  assert.equal(textOf(TEXT, stop.range), 'stop_loss_pct');
  const trail = await s.hover(uri, positionOf(TEXT, 'param trail_pct', 8));
  assert.match(trail.contents.value, /\*\*trail_pct\*\*: `float` = `0`/);
  const take = await s.hover(uri, positionOf(TEXT, 'param take_profit_pct', 8));
  assert.match(take.contents.value, /\*\*take_profit_pct\*\*/);
  const direction = await s.hover(uri, positionOf(TEXT, 'direction = "both"', 2));
  assert.match(direction.contents.value, /\*\*direction\*\*: `string` = `"?long"?`/);
  assert.match(direction.contents.value, /reverses/);
});

test('hover on the cost statements (and the other study keywords after the first line) says what they do', async () => {
  const uri = open(TEXT);
  const cash = await s.hover(uri, positionOf(TEXT, 'cash 100000', 1));
  assert.match(cash.contents.value, /Starting cash/);
  const commission = await s.hover(uri, positionOf(TEXT, 'commission 0.005', 3));
  assert.ok(commission, 'a hover on commission');
  assert.match(commission.contents.value, /per share/);
  assert.match(commission.contents.value, /per futures contract/);
  const slippage = await s.hover(uri, positionOf(TEXT, 'slippage 0.05%', 3));
  assert.ok(slippage, 'a hover on slippage');
  assert.match(slippage.contents.value, /high–low range/);
});

test('completion offers slippage at the start of a study statement', async () => {
  const text = TEXT.replace('  slippage 0.05%\n', '  sl\n');
  const uri = open(text);
  const items = await s.completion(uri, positionOf(text, '  sl\n', 4));
  const labels = items.map((i: { label: string }) => i.label);
  assert.ok(labels.includes('slippage'), labels.join());
});
