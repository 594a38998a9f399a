/**
 * Context-aware completion: what may be written at the cursor, from the block and the tokens
 * of the statement before it (server/lsp/cursor-context.ts) and the study's strategy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem } from 'vscode-languageserver';
import { BUILTIN_STRATEGIES, EXPR_FUNCTIONS, METRICS, SEARCH_METHODS, findSearchMethod, type ParamSchema, type Position } from '../../grammar/index';
import { cursorContext, type CursorContext } from './cursor-context';
import type { ParsedDocument } from './document';
import type { Token } from './lexer';
import { BLOCK_KEYWORDS, OPTION_BLOCKS, OPTION_VALUES, PARAM_TYPES, strategyParamsAt } from './lookup';

export interface CompletionOptions {
  /** Whether the client accepts snippets (`${1:name}`). */
  snippets?: boolean;
}

/** The completion items at `position` (empty in comments and strings). */
export function computeCompletion(doc: ParsedDocument, position: Position, options: CompletionOptions = {}): CompletionItem[] {
  const offset = doc.offsetAt(position);
  const ctx = cursorContext(doc.tokens, offset, doc.text, doc.topLevel);
  if (ctx.inCommentOrString) return pathCompletion(doc, ctx, offset);
  const snippets = options.snippets !== false;
  const items: CompletionItem[] = [];
  switch (ctx.block.kind) {
    case 'top':
      topItems(ctx, items, snippets);
      break;
    case 'strategy-decl':
      declarationItems(ctx, items, snippets);
      break;
    case 'study':
      studyStatement(doc, ctx, position, items, snippets);
      break;
    case 'objectives':
      if (ctx.statement.length === 0) keywordsOf('objectives', items);
      else expressionItems(items, [], true);
      break;
    case 'stage':
      stageStatement(doc, ctx, position, items, snippets);
      break;
    case 'search-options':
      searchOptionItems(doc, ctx, items);
      break;
    case 'options':
      optionItems(doc, ctx, items);
      break;
    case 'strategy-overrides':
      overrideItems(doc, ctx, position, items);
      break;
    default:
      break;
  }
  return snippets ? items : plainText(items);
}

/** A client without snippets gets plain text: `max(` rather than `max($1)`. */
function plainText(items: CompletionItem[]): CompletionItem[] {
  return items
    .filter((i) => i.kind !== CompletionItemKind.Snippet)
    .map((i) => (i.insertTextFormat === InsertTextFormat.Snippet ? { ...i, insertTextFormat: InsertTextFormat.PlainText, insertText: i.insertText?.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\{\d+\}|\$\d+/g, '') } : i));
}

function keywordsOf(block: keyof typeof BLOCK_KEYWORDS, items: CompletionItem[]): void {
  for (const [word, doc] of Object.entries(BLOCK_KEYWORDS[block] ?? {})) items.push(keyword(word, doc));
}

/** Top level: `study`, `strategy` and their snippets; the kind after `strategy NAME`. */
function topItems(ctx: CursorContext, items: CompletionItem[], snippets: boolean): void {
  const st = ctx.statement;
  if (st.length === 0) {
    keywordsOf('top', items);
    if (snippets) items.push(...topSnippets());
  } else if (st[0]?.text === 'strategy' && st.length === 2) {
    items.push(keyword('command', 'The command line of an external strategy process.'));
    items.push(keyword('module', 'A TypeScript or JavaScript strategy module, relative to this file.'));
    items.push(keyword('backtrader', 'A real backtrader strategy: `"file.py:make_cerebro"` (a cerebro factory) or `"file.py:MyStrategy"` (a bt.Strategy class).'));
  }
}

/** Inside `strategy NAME { … }`: its statements, a parameter's type, a bool default. */
function declarationItems(ctx: CursorContext, items: CompletionItem[], snippets: boolean): void {
  const st = ctx.statement;
  const head = st[0]?.text;
  if (st.length === 0) {
    keywordsOf('strategy-decl', items);
    if (snippets) items.push(snippet('param (declaration)', 'param ${1:name}: ${2|int,float,string,bool|} = ${3:0}', 'A declared parameter.'));
  } else if (head === 'param' && st.length >= 2 && st[st.length - 1].text === ':') {
    for (const [t, d] of Object.entries(PARAM_TYPES)) items.push({ label: t, kind: CompletionItemKind.TypeParameter, detail: d });
  } else if (head === 'param' && st[st.length - 1].text === '=' && st[3]?.text === 'bool') {
    items.push(value('true'), value('false'));
  }
}

/** Inside `search METHOD { … }`: the options not yet given, an option's values. */
function searchOptionItems(doc: ParsedDocument, ctx: CursorContext, items: CompletionItem[]): void {
  const method = findSearchMethod(ctx.block.detail ?? '');
  const st = ctx.statement;
  if (!method) return;
  if (st.length === 0) {
    const used = usedOptionKeys(doc.tokens, ctx);
    for (const o of method.options) {
      if (used.has(o.name)) continue;
      items.push({
        label: o.name,
        kind: CompletionItemKind.Property,
        detail: o.type === 'enum' ? (o.values ?? []).join(' | ') : o.type + (o.default !== undefined ? ` = ${o.default}` : ''),
        documentation: md(o.doc),
      });
    }
  } else if (st.length === 1) {
    const o = method.options.find((x) => x.name === st[0]?.text);
    if (o?.type === 'enum') for (const v of o.values ?? []) items.push({ ...value(v), kind: CompletionItemKind.EnumMember });
    if (o?.type === 'flag') items.push(value('true'), value('false'));
  }
}

/** Inside an options block (`data "…" { … }`, `early_stop { … }`, …): its keys not yet given, a key's values. */
function optionItems(doc: ParsedDocument, ctx: CursorContext, items: CompletionItem[]): void {
  const opts = OPTION_BLOCKS[ctx.block.detail ?? ''];
  const st = ctx.statement;
  if (opts && st.length === 0) {
    const used = usedOptionKeys(doc.tokens, ctx);
    for (const [k, d] of Object.entries(opts)) if (!used.has(k)) items.push({ label: k, kind: CompletionItemKind.Property, documentation: md(d) });
  } else if (st.length === 1) {
    for (const v of OPTION_VALUES[ctx.block.detail ?? '']?.[st[0]!.text] ?? []) items.push({ ...value(v), kind: CompletionItemKind.EnumMember });
  }
}

/** Inside `strategy NAME { … }` of a study: the parameters not yet set, a parameter's values. */
function overrideItems(doc: ParsedDocument, ctx: CursorContext, position: Position, items: CompletionItem[]): void {
  const { params } = strategyParamsAt(doc, ctx, position);
  const st = ctx.statement;
  if (st.length === 0) {
    const used = usedOptionKeys(doc.tokens, ctx);
    for (const p of params) if (!used.has(p.name)) items.push({ ...paramItem(p), insertText: `${p.name} = ${literal(p.default)}` });
  } else if (st.length === 2 && st[1].text === '=') {
    items.push(...valueItems(params.find((p) => p.name === st[0]?.text)));
  }
}

/**
 * Inside the path string of `data`, `strategy module`, a declared `module` or `warm_start`:
 * the files and folders at the typed path, relative to the study file.
 */
function pathCompletion(doc: ParsedDocument, ctx: CursorContext, offset: number): CompletionItem[] {
  const st = ctx.statement;
  const str = st[st.length - 1];
  if (!doc.filePath || !str || str.kind !== 'string' || offset <= str.start) return [];
  const words = st.slice(0, -1).map((t) => t.text);
  const kind =
    words.length === 1 && words[0] === 'data' ? 'data'
    : words[words.length - 1] === 'module' && words[0] === 'strategy' ? 'module'
    : words.length === 3 && words[0] === 'strategy' && words[2] === 'backtrader' ? 'python'
    : words.length === 1 && words[0] === 'warm_start' ? 'folder'
    : undefined;
  if (!kind) return [];
  const typed = doc.text.slice(str.start + 1, offset);
  if (typed.includes('\n')) return [];
  if (kind === 'python' && typed.includes(':')) return []; // the NAME after FILE.py: (backtraderNameSite)
  const slash = typed.lastIndexOf('/');
  const dirPart = slash >= 0 ? typed.slice(0, slash + 1) : '';
  const dir = path.resolve(path.dirname(doc.filePath), dirPart || '.');
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const start = doc.positionAt(str.start + 1 + dirPart.length);
  const end = doc.positionAt(offset);
  const wanted = kind === 'data' ? /\.(txt|csv)$/i : kind === 'module' ? /\.(ts|js|mjs|cjs)$/i : kind === 'python' ? /\.py$/i : /^$/;
  const items: CompletionItem[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const isDir = e.isDirectory();
    if (!isDir && !wanted.test(e.name)) continue;
    items.push({
      label: isDir ? `${e.name}/` : e.name,
      kind: isDir ? CompletionItemKind.Folder : CompletionItemKind.File,
      textEdit: { range: { start, end }, newText: isDir && kind !== 'folder' ? `${e.name}/` : e.name },
      sortText: (isDir ? '1' : '0') + e.name,
      // Keep completing inside a folder.
      command: isDir && kind !== 'folder' ? { title: 'Suggest', command: 'editor.action.triggerSuggest' } : undefined,
    });
  }
  return items;
}

/**
 * Inside `strategy NAME backtrader "FILE.py:|"`, after the colon: the file (or dotted module)
 * part and the range the completed NAME replaces. The names come from the bridge (user code:
 * the server asks only in trusted workspaces), so the caller completes them asynchronously.
 */
export function backtraderNameSite(doc: ParsedDocument, position: Position): { where: string; range: { start: Position; end: Position } } | undefined {
  const offset = doc.offsetAt(position);
  const ctx = cursorContext(doc.tokens, offset, doc.text, doc.topLevel);
  const st = ctx.statement;
  const str = st[st.length - 1];
  if (!ctx.inCommentOrString || !str || str.kind !== 'string' || offset <= str.start) return undefined;
  if (st.length !== 4 || st[0]!.text !== 'strategy' || st[2]!.text !== 'backtrader') return undefined;
  const typed = doc.text.slice(str.start + 1, offset);
  const colon = typed.lastIndexOf(':');
  if (colon <= 0 || typed.includes('\n')) return undefined;
  return { where: typed.slice(0, colon), range: { start: doc.positionAt(str.start + 1 + colon + 1), end: position } };
}

/** Completion items for the NAME of a backtrader SPEC: Strategy classes first, then functions (cerebro factories). */
export function backtraderNameItems(names: readonly { name: string; kind: 'strategy' | 'function'; doc: string; detail: string }[], range: { start: Position; end: Position }): CompletionItem[] {
  return names.map((n, i) => ({
    label: n.name,
    kind: n.kind === 'strategy' ? CompletionItemKind.Class : CompletionItemKind.Function,
    detail: n.detail,
    documentation: n.doc ? md(n.doc) : undefined,
    textEdit: { range, newText: n.name },
    sortText: `${n.kind === 'strategy' ? 0 : 1}${String(i).padStart(4, '0')}`,
  }));
}

function studyStatement(doc: ParsedDocument, ctx: CursorContext, position: Position, items: CompletionItem[], snippets: boolean): void {
  const st = ctx.statement;
  const head = st[0]?.text;
  const last = st[st.length - 1];
  if (st.length === 0) {
    for (const [word, d] of Object.entries(BLOCK_KEYWORDS.study ?? {})) items.push(keyword(word, d));
    if (snippets) items.push(stageSnippet());
    return;
  }
  switch (head) {
    case 'data': {
      if (st.length >= 2 && st[1].kind === 'string') {
        const has = new Set(st.map((t) => t.text));
        if (!has.has('from') && !has.has('to')) items.push(keyword('from', 'First date of the backtest (inclusive).'));
        if (!has.has('to') && last.text !== 'from') items.push(keyword('to', 'Last date of the backtest (inclusive).'));
      }
      return;
    }
    case 'commission':
      commissionWords(st.map((t) => t.text), items);
      return;
    case 'sizing':
      if (st.length === 1) items.push(keyword('percent', 'Each order uses this percent of the portfolio value.'), keyword('fixed', 'Each order is this many shares.'));
      return;
    case 'strategy':
      if (st.length === 1) {
        for (const s of BUILTIN_STRATEGIES) items.push(strategyItem(s.name, s.doc, s.params, 'built-in'));
        for (const [name, s] of doc.analysis.strategies) items.push(strategyItem(name, s.doc || `Declared in this file (${s.kind}).`, s.params, s.kind));
        items.push(keyword('module', 'A TypeScript or JavaScript strategy module: `strategy module "strategies/x.ts"`.'));
      }
      return;
    case 'objective':
      if (st.length === 1) items.push(keyword('maximize', 'Higher is better.'), keyword('minimize', 'Lower is better.'));
      else expressionItems(items, [], !isAfterValue(last));
      return;
    case 'constraint':
      expressionItems(items, [], !isAfterValue(last));
      if (isAfterValue(last) && st.length > 1) items.push(...comparisonKeywords());
      return;
    case 'validate':
      if (st.length === 1) items.push(keyword('holdout', 'Keep the last part of the data out of the optimization.'), keyword('walkforward', 'Re-optimize on rolling windows, judge on unseen data.'));
      return;
    case 'executor':
      if (st.length === 1) items.push(keyword('redis', 'Distribute the trials through a Redis queue.'));
      return;
    default:
      return;
  }
}

function stageStatement(doc: ParsedDocument, ctx: CursorContext, position: Position, items: CompletionItem[], snippets: boolean): void {
  const st = ctx.statement;
  const head = st[0]?.text;
  const last = st[st.length - 1];
  if (st.length === 0) {
    for (const [word, d] of Object.entries(BLOCK_KEYWORDS.stage ?? {})) items.push(keyword(word, d));
    if (snippets) {
      items.push(snippet('param … in a .. b step s', 'param ${1:name} in ${2:1} .. ${3:10} step ${4:1}', 'A stepped range (inclusive).'));
      items.push(snippet('search … { trials }', 'search ${1|random,bayes,tpe,genetic,cmaes|} { trials ${2:100} }', 'A non-grid search with its budget.'));
    }
    return;
  }
  const { params } = strategyParamsAt(doc, ctx, position);
  switch (head) {
    case 'search':
      if (st.length === 1) {
        for (const m of SEARCH_METHODS) {
          items.push({
            label: m.name,
            kind: CompletionItemKind.EnumMember,
            detail: m.options.length ? `options: ${m.options.map((o) => o.name).join(', ')}` : undefined,
            documentation: md(m.doc),
          });
        }
      }
      return;
    case 'param': {
      if (st.length === 1) {
        // Names other `param` lines of the stage search (this line's own name stays offered).
        const inStage = stageParamNames(doc.tokens, ctx, st[0]);
        for (const p of params) {
          if (inStage.has(p.name)) continue;
          items.push(paramItem(p));
        }
        return;
      }
      if (st.length === 2) {
        items.push(keyword('in', 'Introduces the parameter’s domain.'));
        return;
      }
      const schema = params.find((p) => p.name === st[1].text);
      if (last.text === 'in') {
        items.push(...domainForms(schema));
        return;
      }
      // After `a .. b`: a step (or a count for a log range).
      const dots = st.findIndex((t) => t.text === '..');
      if (dots >= 0 && st.length === dots + 2 && last.kind === 'number') {
        const isLog = st.some((t) => t.text === 'log');
        items.push(isLog ? keyword('count', 'How many geometrically spaced values.') : keyword('step', 'The step of an inclusive range.'));
      }
      return;
    }
    case 'where': {
      const inStage = stageParamNames(doc.tokens, ctx);
      const names = params.filter((p) => inStage.has(p.name) || inStage.size === 0);
      if (isAfterValue(last) && st.length > 1) {
        items.push(...comparisonKeywords());
        return;
      }
      expressionItems(items, names.length ? names : params, false);
      return;
    }
    default:
      return;
  }
}

/**
 * The domain forms after `param NAME in`, filled from the parameter's schema where it has one:
 * a list (its choices, or `true, false`), a stepped range, a continuous range and a log range.
 */
function domainForms(schema: ParamSchema | undefined): CompletionItem[] {
  const form = (label: string, body: string, doc: string, sort: number): CompletionItem => ({
    label,
    kind: CompletionItemKind.Value,
    insertText: body,
    insertTextFormat: InsertTextFormat.Snippet,
    documentation: md(doc),
    sortText: `${sort}`,
  });
  if (schema?.choices) {
    const list = schema.choices.map((c) => `"${c}"`).join(', ');
    return [form(`[${list}]`, `[${list}]`, 'Every choice of this parameter (remove the ones not to search).', 0)];
  }
  if (schema?.type === 'bool') return [form('[true, false]', '[true, false]', 'Both values.', 0)];
  if (schema?.type === 'string') return [form('["a", "b"]', '[${1:"a"}, ${2:"b"}]', 'A list of values.', 0)];
  const int = !schema || schema.type === 'int';
  const def = typeof schema?.default === 'number' ? schema.default : int ? 10 : 1;
  const lo = schema?.min ?? (def > 0 ? (int ? Math.max(1, Math.round(def / 2)) : def / 2) : 0);
  const hi = schema?.max ?? (def > 0 ? (int ? Math.max(lo + 1, def * 2) : def * 2) : 10);
  const step = int ? Math.max(1, Math.round((hi - lo) / 10)) : Number(((hi - lo) / 10).toPrecision(2));
  const n = (x: number) => String(Number(x.toPrecision(6)));
  const lg = (x: number) => n(x > 0 ? x : 0.001);
  return [
    form(`${n(lo)} .. ${n(hi)} step ${n(step)}`, `\${1:${n(lo)}} .. \${2:${n(hi)}} step \${3:${n(step)}}`, 'A stepped range, both ends included: what a grid searches.', 0),
    form(`[${n(lo)}, ${n(def)}, ${n(hi)}]`, `[\${1:${n(lo)}}, \${2:${n(def)}}, \${3:${n(hi)}}]`, 'A list of values.', 1),
    form(`${n(lo)} .. ${n(hi)}`, `\${1:${n(lo)}} .. \${2:${n(hi)}}`, 'A continuous range, for bayes, tpe, random, genetic and cmaes searches (a grid needs a step).', 2),
    form(`log ${lg(lo)} .. ${lg(hi)} count 10`, `log \${1:${lg(lo)}} .. \${2:${lg(hi)}} count \${3:10}`, 'A log range: `count` values spaced evenly on a log scale, both ends included.', 3),
  ];
}

/** Metric names, functions and (in `where`) parameters, for an expression position. */
function expressionItems(items: CompletionItem[], params: readonly ParamSchema[], metrics: boolean): void {
  if (metrics) {
    for (const m of METRICS) {
      items.push({
        label: m.name,
        kind: CompletionItemKind.Variable,
        detail: `${m.unit}${m.better !== 'neither' ? ` · ${m.better} is better` : ''}`,
        documentation: md(m.doc + (m.aliasOf ? `\n\nSame as \`${m.aliasOf}\`.` : '')),
        // Friendly names first, then the golden-file keys.
        sortText: (m.aliasOf || METRICS.indexOf(m) < 19 ? '0' : '1') + m.name,
      });
    }
  }
  for (const p of params) items.push(paramItem(p));
  for (const [name, f] of Object.entries(EXPR_FUNCTIONS)) {
    items.push({
      label: name,
      kind: CompletionItemKind.Function,
      detail: f.signature,
      documentation: md(f.doc),
      insertText: `${name}($1)`,
      insertTextFormat: InsertTextFormat.Snippet,
      sortText: '2' + name,
    });
  }
  items.push(keyword('not', 'The condition does not hold.'));
}

function comparisonKeywords(): CompletionItem[] {
  return [keyword('and', 'Both conditions hold.'), keyword('or', 'Either condition holds.')];
}

/** Whether a token ends a value (so what follows is an operator, not an operand). */
function isAfterValue(t: Token | undefined): boolean {
  if (!t) return false;
  if (t.kind === 'number' || t.kind === 'string' || t.text === ')') return true;
  return t.kind === 'ident' && !['objective', 'constraint', 'where', 'maximize', 'minimize', 'and', 'or', 'not'].includes(t.text);
}

/** Parameter names already written in the stage around the cursor (`param NAME`), but for the `param` token `except`. */
function stageParamNames(tokens: readonly Token[], ctx: CursorContext, except?: Token): Set<string> {
  const out = new Set<string>();
  if (ctx.stageOpen < 0) return out;
  let depth = 0;
  for (let i = ctx.stageOpen + 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.text === '{') depth++;
    else if (t.text === '}') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && t !== except && t.text === 'param' && tokens[i + 1]?.kind === 'ident' && tokens[i + 2]?.text === 'in') out.add(tokens[i + 1].text);
  }
  return out;
}

/** Option keys already written in the option block around the cursor. */
function usedOptionKeys(tokens: readonly Token[], ctx: CursorContext): Set<string> {
  const out = new Set<string>();
  let expectKey = true;
  for (let i = ctx.block.open + 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.text === '}' || t.text === '{') break;
    if (t.kind === 'comment') continue;
    if (t.text === ',') expectKey = true;
    else if (expectKey && t.kind === 'ident') {
      if (ctx.prefix === '' || t.start !== ctx.prefixStart) out.add(t.text);
      expectKey = false;
    }
  }
  return out;
}

function paramItem(p: ParamSchema): CompletionItem {
  return {
    label: p.name,
    kind: CompletionItemKind.Field,
    detail: `${p.type} = ${literal(p.default)}`,
    documentation: md(paramDoc(p)),
  };
}

/** Markdown describing a declared parameter: doc, type, default, bounds, choices. */
export function paramDoc(p: ParamSchema): string {
  const lines = [p.doc, '', `\`${p.type}\`, default \`${literal(p.default)}\``];
  if (p.choices) lines.push(`choices: ${p.choices.map((c) => `\`${c}\``).join(', ')}`);
  if (p.min !== undefined || p.max !== undefined) lines.push(`sensible range: ${p.min ?? '−∞'} … ${p.max ?? '∞'}`);
  return lines.join('\n\n').trim();
}

function valueItems(p: ParamSchema | undefined): CompletionItem[] {
  if (!p) return [];
  if (p.choices) return p.choices.map((c) => ({ ...value(`"${c}"`), filterText: c }));
  if (p.type === 'bool') return [value('true'), value('false')];
  return [value(literal(p.default))];
}

function strategyItem(name: string, doc: string, params: readonly ParamSchema[], kind: string): CompletionItem {
  return {
    label: name,
    kind: CompletionItemKind.Class,
    detail: `${kind} (${params.map((p) => p.name).join(', ')})`,
    documentation: md(doc),
  };
}

/** `commission A per share` / `commission A per contract margin M mult K`: the word that may come next. */
function commissionWords(words: string[], items: CompletionItem[]): void {
  const last = words[words.length - 1];
  if (words.length === 2) items.push(keyword('per', "The commission's unit: `per share`, or `per contract margin M mult K` for futures."));
  else if (last === 'per') items.push(keyword('share', 'A fixed amount per share traded (e.g. `0.005 per share`).'), keyword('contract', 'A fixed amount per futures contract, with its `margin` and `mult` (e.g. `2.5 per contract margin 2000 mult 10`).'));
  else if (words[2] === 'per' && words[3] === 'contract' && (last === 'contract' || /^[\d.]/.test(last ?? ''))) {
    if (!words.includes('margin')) items.push(keyword('margin', 'Cash held per open contract (futures margin).'));
    if (!words.includes('mult')) items.push(keyword('mult', 'The contract multiplier: the money one point of price is worth.'));
  }
}

function keyword(word: string, doc: string): CompletionItem {
  return { label: word, kind: CompletionItemKind.Keyword, documentation: md(doc) };
}

function value(v: string): CompletionItem {
  return { label: v, kind: CompletionItemKind.Value };
}

function snippet(label: string, body: string, doc: string): CompletionItem {
  return { label, kind: CompletionItemKind.Snippet, insertText: body, insertTextFormat: InsertTextFormat.Snippet, documentation: md(doc), sortText: '~' + label };
}

function stageSnippet(): CompletionItem {
  return snippet(
    'stage (new stage)',
    ['stage "${1:name}" {', '  search ${2|grid,random,bayes,tpe,genetic,cmaes|}', '  param ${3:name} in ${4:1} .. ${5:10} step ${6:1}', '}'].join('\n'),
    'A new stage with a search method and one parameter.',
  );
}

function topSnippets(): CompletionItem[] {
  return [
    snippet(
      'study (new study)',
      [
        'study "${1:My study}" {',
        '  data "${2:data/orcl-1995-2014.txt}" from ${3:2005-01-01} to ${4:2014-12-31}',
        '  cash ${5:100000}',
        '  commission ${6:0.1%}',
        '  sizing percent ${7:95}',
        '  strategy ${8|sma_cross,ema_atr,rsi_reversion,bollinger|}',
        '',
        '  objective maximize ${9:sharpe}',
        '  constraint trades >= ${10:10}',
        '',
        '  stage "${11:grid}" {',
        '    search grid',
        '    $0',
        '  }',
        '}',
      ].join('\n'),
      'A new study with data, a strategy, an objective and one grid stage.',
    ),
    snippet(
      'strategy (external command)',
      ['strategy ${1:name} command "${2:python3 strategy.py}" {', '  param ${3:fast}: ${4|int,float,string,bool|} = ${5:10}', '}'].join('\n'),
      'An external strategy process speaking the JSON-lines protocol.',
    ),
  ];
}

function md(value: string) {
  return { kind: MarkupKind.Markdown, value };
}

/** A parameter value as written in a study. */
export function literal(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : String(v);
}
