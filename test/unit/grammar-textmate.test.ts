/**
 * The TextMate grammar and language configuration: valid, in sync with the language's
 * keywords, metrics and built-in strategies, and colouring a real line as expected. A small
 * single-line matcher stands in for VS Code's engine (the grammar only uses regex features
 * that JavaScript and Oniguruma share).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_STRATEGIES, EXPR_FUNCTIONS, KEYWORDS, METRICS, SEARCH_METHODS } from '../../grammar/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Rule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  include?: string;
  captures?: Record<string, { name: string }>;
  patterns?: Rule[];
}
interface Grammar {
  scopeName: string;
  patterns: Rule[];
  repository: Record<string, { patterns: Rule[] }>;
}

const grammar = JSON.parse(fs.readFileSync(path.join(ROOT, 'grammar', 'optstudy.tmLanguage.json'), 'utf8')) as Grammar;

function flatRules(): Rule[] {
  const out: Rule[] = [];
  for (const r of grammar.patterns) {
    if (r.include?.startsWith('#')) out.push(...grammar.repository[r.include.slice(1)]!.patterns);
    else out.push(r);
  }
  return out;
}

/** Scopes of each word of one line: position → scope, by earliest-match-first scanning. */
function scopes(line: string): Map<string, string> {
  const rules = flatRules();
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < line.length) {
    let best: { index: number; m: RegExpExecArray; rule: Rule } | undefined;
    for (const rule of rules) {
      const src = rule.match ?? rule.begin;
      if (!src) continue;
      const re = new RegExp(src, 'gd');
      re.lastIndex = pos;
      const m = re.exec(line);
      if (m && m[0].length > 0 && (!best || m.index < best.index)) best = { index: m.index, m, rule };
    }
    if (!best) break;
    const { m, rule } = best;
    let end = m.index + m[0].length;
    if (rule.begin && rule.end) {
      const endRe = new RegExp(rule.end, 'g');
      endRe.lastIndex = end;
      const e = endRe.exec(line);
      end = e ? e.index + e[0].length : line.length;
      out.set(line.slice(m.index, end), rule.name!);
    } else if (rule.captures) {
      for (const [k, v] of Object.entries(rule.captures)) {
        const text = m[Number(k)];
        if (text) out.set(text, v.name);
      }
    } else if (rule.name) out.set(m[0], rule.name);
    pos = end;
  }
  return out;
}

test('the TextMate grammar is valid and named source.optstudy', () => {
  assert.equal(grammar.scopeName, 'source.optstudy');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { grammars: { path: string; scopeName: string }[] } };
  assert.ok(pkg.contributes.grammars.some((g) => g.scopeName === 'source.optstudy' && g.path === './grammar/optstudy.tmLanguage.json'));
  for (const r of flatRules()) for (const src of [r.match, r.begin, r.end]) if (src) new RegExp(src);
  const conf = JSON.parse(fs.readFileSync(path.join(ROOT, 'grammar', 'language-configuration.json'), 'utf8')) as { comments: { lineComment: string; blockComment: string[] } };
  assert.equal(conf.comments.lineComment, '//');
  assert.deepEqual(conf.comments.blockComment, ['/*', '*/']);
});

test('every keyword, metric, built-in strategy, search method and function is coloured', () => {
  const rules = flatRules();
  const coloured = (word: string, context: string) => {
    const s = scopes(context);
    return s.get(word);
  };
  for (const k of Object.keys(KEYWORDS)) assert.ok(rules.some((r) => (r.match ?? '').includes(k)), `keyword ${k}`);
  for (const m of METRICS) assert.equal(coloured(m.name, `objective maximize ${m.name}`), 'support.variable.metric.optstudy', m.name);
  for (const s of BUILTIN_STRATEGIES) assert.equal(coloured(s.name, `strategy ${s.name}`), 'entity.name.type.strategy.optstudy', s.name);
  for (const m of SEARCH_METHODS) assert.equal(coloured(m.name, `search ${m.name} { }`), 'support.function.search-method.optstudy', m.name);
  for (const f of Object.keys(EXPR_FUNCTIONS)) assert.equal(coloured(f, `objective maximize ${f}(sharpe, 1)`), 'support.function.optstudy', f);
});

test('a real line is coloured as a reader expects', () => {
  const s = scopes('  data "data/orcl.txt" from 2005-01-01 to 2014-12-31 // the prices');
  assert.equal(s.get('data'), 'keyword.other.optstudy');
  assert.equal(s.get('"data/orcl.txt"'), 'string.quoted.double.optstudy');
  assert.equal(s.get('2005-01-01'), 'constant.numeric.date.optstudy');
  assert.equal(s.get('// the prices'), 'comment.line.double-slash.optstudy');
  const p = scopes('    param ema_fast in 5 .. 30 step 1   /* ok */');
  assert.equal(p.get('ema_fast'), 'variable.parameter.optstudy');
  assert.equal(p.get('..'), 'keyword.operator.range.optstudy');
  assert.equal(p.get('/* ok */'), 'comment.block.optstudy');
  const c = scopes('  commission 0.1%  timeout 30s');
  assert.equal(c.get('0.1%'), 'constant.numeric.optstudy');
  assert.equal(c.get('30s'), 'constant.numeric.duration.optstudy');
  const h = scopes('study "EMA cross" {');
  assert.equal(h.get('"EMA cross"'), 'string.quoted.double.optstudy entity.name.section.optstudy');
  const o = scopes('objective maximize profit_factor * max(sharpe, 0) and not x');
  assert.equal(o.get('maximize'), 'storage.modifier.direction.optstudy');
  assert.equal(o.get('and'), 'keyword.operator.logical.optstudy');
  assert.equal(o.get('x'), 'variable.other.optstudy');
});
