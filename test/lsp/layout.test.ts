// Formatting, folding ranges and semantic tokens through the built server.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LspSession, SAMPLES, applyEdits, sampleFiles } from '../support/lsp-session';

let s: LspSession;
before(async () => {
  s = await LspSession.start();
});
after(() => s.stop());

let n = 0;
async function format(text: string): Promise<string> {
  const uri = s.open(`fmt-${n++}.optstudy`, text);
  const edits = await s.format(uri);
  return applyEdits(text, edits);
}

const MESSY = `// header comment
strategy   mine command "python3 x.py"{
param k:int=3   // trailing
    param m : string = "a"
}



study "s"{
      data "x.txt"   from 2005-01-01 to 2014-12-31
  commission   0.1%
  objective maximize profit_factor*max( sharpe,0 )*(1-max_drawdown_pct/100)
  constraint trades>=20
    /* a block
       comment kept as is */
  stage "a" {

    search bayes {trials 60,init 10,acquisition ei}
    param fast in -5 .. 50 step 5
    param slow in [ 1,2 ,3 ]
    where fast<slow and not fast == 3


  }
}`;

const EXPECTED = `// header comment
strategy mine command "python3 x.py" {
  param k: int = 3   // trailing
  param m: string = "a"
}

study "s" {
  data "x.txt" from 2005-01-01 to 2014-12-31
  commission 0.1%
  objective maximize profit_factor * max(sharpe, 0) * (1 - max_drawdown_pct / 100)
  constraint trades >= 20
  /* a block
       comment kept as is */
  stage "a" {
    search bayes { trials 60, init 10, acquisition ei }
    param fast in -5 .. 50 step 5
    param slow in [1, 2, 3]
    where fast < slow and not fast == 3
  }
}
`;

test('formatting gives the canonical layout and keeps every comment', async () => {
  assert.equal(await format(MESSY), EXPECTED);
});

test('formatting is idempotent: a formatted document gets no edits', async () => {
  const uri = s.open('fmt-idem.optstudy', EXPECTED);
  assert.deepEqual(await s.format(uri), []);
  for (const name of sampleFiles()) {
    const once = await format(fs.readFileSync(path.join(SAMPLES, name), 'utf8'));
    assert.equal(await format(once), once, name);
  }
});

test('formatting refuses (no edits) what it cannot do safely', async () => {
  for (const text of ['study "s" {\n  data "unterminated\n}\n', 'study "s" {\n  cash 10 @ 3\n}\n', 'study "s" { /* open comment\n']) {
    const uri = s.open(`fmt-unsafe-${n++}.optstudy`, text);
    assert.deepEqual(await s.format(uri), [], JSON.stringify(text));
  }
});

test('folding ranges: blocks, block comments and runs of line comments', async () => {
  const uri = s.open('fold.optstudy', EXPECTED);
  const folds = await s.folding(uri);
  const has = (a: number, b: number, kind?: string) => folds.some((f) => f.startLine === a && f.endLine === b && f.kind === kind);
  assert.ok(has(1, 3), JSON.stringify(folds)); // strategy block, closing brace kept visible
  assert.ok(has(6, 18)); // study
  assert.ok(has(11, 12, 'comment')); // block comment
  assert.ok(has(13, 17)); // stage
  const comments = s.open('fold2.optstudy', '// one\n// two\n// three\nstudy "x" {\n}\n');
  assert.ok((await s.folding(comments)).some((f) => f.startLine === 0 && f.endLine === 2 && f.kind === 'comment'));
});

test('semantic tokens classify keywords, strategies, parameters, metrics, functions, methods and options', async () => {
  const text = 'strategy mine command "x" {\n  param k: int = 3\n}\nstudy "s" {\n  strategy mine\n  objective maximize max(sharpe, 0)\n  stage "a" {\n    search bayes { trials 5 }\n    param k in 1 .. 3 step 1\n    where k > 1\n  }\n}\n';
  const uri = s.open('tokens.optstudy', text);
  const { data } = await s.semanticTokens(uri);
  assert.equal(data.length % 5, 0);
  const legend = ['keyword', 'string', 'number', 'comment', 'operator', 'class', 'parameter', 'variable', 'function', 'enumMember', 'property', 'type'];
  // Decode into (text, type) pairs.
  const lines = text.split('\n');
  let line = 0;
  let ch = 0;
  const got: string[] = [];
  for (let i = 0; i < data.length; i += 5) {
    line += data[i];
    ch = data[i] === 0 ? ch + data[i + 1] : data[i + 1];
    got.push(`${lines[line].slice(ch, ch + data[i + 2])}:${legend[data[i + 3]]}`);
  }
  for (const want of ['strategy:keyword', 'mine:class', 'k:parameter', 'int:type', 'max:function', 'sharpe:variable', 'bayes:enumMember', 'trials:property', '"s":string', '3:number', 'maximize:keyword', '>:operator']) {
    assert.ok(got.includes(want), `${want} in ${got.join(' ')}`);
  }
});
