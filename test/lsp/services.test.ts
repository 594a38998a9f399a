// The pure feature functions the server's handlers wrap, called directly with a `<|>` cursor
// marker (no server): the same code the protocol tests reach over stdio, at unit-test speed.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { computeCompletion } from '../../server/lsp/completion';
import { cursorContext } from '../../server/lsp/cursor-context';
import { parseDocument, withCursor } from '../../server/lsp/document';
import { formatText } from '../../server/lsp/formatting';
import { computeHover } from '../../server/lsp/hover';
import { lex } from '../../server/lsp/lexer';
import { computeSemanticTokens } from '../../server/lsp/semantic-tokens';

function at(marked: string) {
  const { text, position, offset } = withCursor(marked);
  return { doc: parseDocument(text), position, offset, text };
}
const labels = (marked: string) => {
  const { doc, position } = at(marked);
  return computeCompletion(doc, position).map((i) => i.label).sort();
};

test('cursor context: blocks and statements', () => {
  const cases: [string, string, string[]][] = [
    ['<|>', 'top', []],
    ['study "s" {\n  <|>\n}', 'study', []],
    ['study "s" {\n  stage "a" {\n    search bayes { trials 5, <|> }\n  }\n}', 'search-options', []],
    ['study "s" {\n  objective maximize sharpe *\n    <|>\n}', 'study', ['objective', 'maximize', 'sharpe', '*']],
    ['study "s" {\n  validate walkforward { folds 5, <|> }\n}', 'options', []],
    ['strategy x command "y" {\n  param a: <|>\n}', 'strategy-decl', ['param', 'a', ':']],
    ['study "s" {\n  strategy sma_cross { fast = <|> }\n}', 'strategy-overrides', ['fast', '=']],
  ];
  for (const [marked, block, statement] of cases) {
    const { text, offset } = withCursor(marked);
    const ctx = cursorContext(lex(text), offset, text);
    assert.equal(ctx.block.kind, block, marked);
    assert.deepEqual(ctx.statement.map((t) => t.text), statement, marked);
  }
});

test('completion in option blocks other than search: walk-forward and early stopping', () => {
  assert.deepEqual(labels('study "s" {\n  validate walkforward { folds 5, <|> }\n}'), ['anchored', 'train']);
  assert.deepEqual(labels('study "s" {\n  early_stop { <|> }\n}'), ['min_delta', 'patience']);
  assert.deepEqual(labels('study "s" {\n  validate <|>\n}'), ['holdout', 'walkforward']);
  assert.deepEqual(labels('strategy x command "y" {\n  param a: <|>\n}'), ['bool', 'float', 'int', 'string']);
});

test('completion inside a function call of an objective keeps offering metrics', () => {
  const l = labels('study "s" {\n  objective maximize max(sharpe, <|>)\n}');
  assert.ok(l.includes('sortino') && l.includes('abs'));
});

test('hover on statement keywords and on words with a fixed meaning', () => {
  const kw = at('study "s" {\n  commi<|>ssion 0.1%\n}');
  assert.match(String((computeHover(kw.doc, kw.position)?.contents as { value: string }).value), /Commission per side/);
  const step = at('study "s" {\n  strategy sma_cross\n  stage "a" {\n    param fast in 1 .. 5 st<|>ep 1\n  }\n}');
  assert.match(String((computeHover(step.doc, step.position)?.contents as { value: string }).value), /step of an inclusive range/);
  const none = at('study "s" {\n  cash 10<|>0\n}');
  assert.equal(computeHover(none.doc, none.position), null);
});

test('semantic tokens split a multi-line block comment into one token per line', () => {
  const doc = parseDocument('/* one\n two */\nstudy "s" {\n}\n');
  const data = computeSemanticTokens(doc);
  // First two tokens: the comment's two lines (type 3 = comment), then `study` (keyword, 0).
  assert.deepEqual(data.slice(0, 15), [0, 0, 6, 3, 0, 1, 0, 7, 3, 0, 1, 0, 5, 0, 0]);
});

test('formatting honours tabs and the tab size', () => {
  const text = 'study "s" {\nstage "a" {\nparam x in [1]\n}\n}\n';
  assert.equal(formatText(text, { insertSpaces: false }), 'study "s" {\n\tstage "a" {\n\t\tparam x in [1]\n\t}\n}\n');
  assert.equal(formatText(text, { tabSize: 4 }), 'study "s" {\n    stage "a" {\n        param x in [1]\n    }\n}\n');
  assert.equal(formatText(''), '');
});
