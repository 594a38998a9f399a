/**
 * Hover: parameters (type, default, domain, number of values), metrics (definition, unit,
 * direction), functions, search methods and options, stages and studies (their size),
 * strategies and keywords. Sizes come from the model (computed once per version); a hover
 * never expands a grid.
 */
import { MarkupKind, type Hover } from 'vscode-languageserver';
import { EXPR_FUNCTIONS, KEYWORDS, domainSize, findMetric, findSearchMethod, type Domain, type ParamSchema, type Position, type StageModel, type StudyModel } from '../../grammar/index';
import { describeDataFile } from '../workspace-checks';
import { literal } from './completion';
import { cursorContext } from './cursor-context';
import type { ParsedDocument } from './document';
import { tokenAt, tokenIndexBefore, type Token } from './lexer';
import { BLOCK_KEYWORDS, OPTION_BLOCKS, PARAM_TYPES, WORD_DOCS, findStrategy, formatCount, stageAt, strategyParamsAt, studyAt } from './lookup';

/** The hover at `position`, or null. */
export function computeHover(doc: ParsedDocument, position: Position): Hover | null {
  const offset = doc.offsetAt(position);
  const tok = tokenAt(doc.tokens, offset);
  if (!tok || tok.kind === 'comment' || tok.kind === 'number' || tok.kind === 'punct' || tok.kind === 'unknown') return null;
  // The context just before the token: its statement so far, without the token itself.
  // With the text, a token that starts a line after a complete statement starts a new one
  // (statement keywords such as `cash` or `slippage` after the `data` line get their hover).
  const ctx = cursorContext(doc.tokens, tok.start, doc.text, doc.topLevel);
  const st = ctx.statement;
  const at: HoverAt = { doc, position, tok, ctx, st, head: st[0]?.text, word: tok.text, schemaOf: () => undefined };
  let value = namedHover(at);
  if (value === undefined && tok.kind !== 'string') {
    const { params } = strategyParamsAt(doc, ctx, position);
    at.schemaOf = (name) => params.find((p) => p.name === name);
    value = blockHover(at);
    if (value === undefined) value = statementHover(at);
    if (value === undefined && tok.kind === 'ident') value = exprHover(at);
  }
  value ??= null;
  return value === null ? null : { contents: { kind: MarkupKind.Markdown, value }, range: { start: doc.positionAt(tok.start), end: doc.positionAt(tok.end) } };
}

/** Where a hover is asked: the token, its statement so far and the strategy's parameters there. */
interface HoverAt {
  doc: ParsedDocument;
  position: Position;
  tok: Token;
  ctx: ReturnType<typeof cursorContext>;
  st: ReturnType<typeof cursorContext>['statement'];
  head: string | undefined;
  word: string;
  schemaOf: (name: string) => ParamSchema | undefined;
}

/**
 * A stage's or study's name or keyword (their sizes), a data file (its bars, span and spacing);
 * undefined when the token is none of them.
 */
function namedHover({ doc, position, tok, ctx, st, head, word }: HoverAt): string | null | undefined {
  if ((tok.kind === 'string' && head === 'stage' && st.length === 1) || (word === 'stage' && st.length === 0 && ctx.block.kind === 'study')) {
    const found = stageAt(doc, position);
    return found ? stageHover(found.study, found.stage) : null;
  }
  if ((tok.kind === 'string' && head === 'study' && st.length === 1) || (word === 'study' && st.length === 0 && ctx.block.kind === 'top')) {
    const study = studyAt(doc, position);
    return study ? studyHover(study) : null;
  }
  // A data file: its bars, span and spacing (server/workspace-checks.ts).
  if (tok.kind === 'string' && head === 'data') {
    const study = studyAt(doc, position);
    const i = study?.ranges.datas?.findIndex((r) => r.start.line === position.line && r.start.character <= position.character && position.character <= r.end.character) ?? -1;
    const text = study && doc.filePath && i >= 0 ? describeDataFile(study, doc.filePath, i) : null;
    return text;
  }
  return undefined;
}

/** Words inside option blocks, strategy overrides and strategy declarations (undefined: none of them). */
function blockHover({ doc, ctx, st, head, word, schemaOf }: HoverAt): string | null | undefined {
  switch (ctx.block.kind) {
    case 'search-options': {
      const method = findSearchMethod(ctx.block.detail ?? '');
      const o = method?.options.find((x) => x.name === word);
      if (o && st.length === 0) return `**${o.name}** (option of \`${method!.name}\`)\n\n${o.doc}${o.default !== undefined ? `\n\nDefault \`${o.default}\`.` : ''}${o.values ? `\n\nValues: ${o.values.map((v) => `\`${v}\``).join(', ')}` : ''}`;
      break;
    }
    case 'options': {
      const d = OPTION_BLOCKS[ctx.block.detail ?? '']?.[word];
      if (d && st.length === 0) return `**${word}**\n\n${d}`;
      break;
    }
    case 'strategy-overrides': {
      const p = schemaOf(word);
      if (p && st.length === 0) return paramHover(p);
      break;
    }
    case 'strategy-decl': {
      if (head === 'param' && st.length === 1) {
        const decl = findStrategy(doc, ctx.block.detail ?? '')?.params.find((p) => p.name === word);
        if (decl) return paramHover(decl);
      }
      if (head === 'param' && st.length === 3 && PARAM_TYPES[word]) return `**${word}** — ${PARAM_TYPES[word]}`;
      break;
    }
    default:
      break;
  }

  return undefined;
}

/** The word after a statement's keyword: a search method, a strategy, a searched parameter (undefined: none of them). */
function statementHover({ doc, position, ctx, st, head, word, schemaOf }: HoverAt): string | null | undefined {
  // A search method.
  if (head === 'search' && st.length === 1) {
    const m = findSearchMethod(word);
    if (m) {
      const opts = m.options.map((o) => `- \`${o.name}\`${o.default !== undefined ? ` (default \`${o.default}\`)` : ''}: ${o.doc}`).join('\n');
      return `**${m.name}** search\n\n${m.doc}${opts ? `\n\nOptions:\n${opts}` : ''}`;
    }
  }
  // A strategy name.
  if (head === 'strategy' && st.length === 1) {
    const s = findStrategy(doc, word);
    if (s) {
      const rows = s.params.map((p) => `| \`${p.name}\` | ${p.type} | \`${literal(p.default)}\` | ${p.doc.replace(/\|/g, '\\|')} |`);
      const kind = s.declared ? 'declared in this file' : 'built-in strategy';
      return `**${s.name}** — ${kind}\n\n${s.doc}\n\n| param | type | default | |\n|---|---|---|---|\n${rows.join('\n')}`;
    }
  }
  // A searched parameter: `param NAME in …`.
  if (head === 'param' && st.length === 1 && ctx.block.kind === 'stage') {
    const found = stageAt(doc, position);
    const sp = found?.stage.params.find((p) => p.name === word);
    const schema = schemaOf(word);
    if (!schema && !sp) return null;
    let text = schema ? paramHover(schema) : `**${word}**`;
    if (sp) text += `\n\n---\n\n${domainLine(sp.domain)}`;
    return text;
  }
  return undefined;
}

/** Names in expressions: parameters, metrics, functions; keywords. */
function exprHover({ doc, position, tok, ctx, st, head, word, schemaOf }: HoverAt): string | null {
  const next = doc.tokens[tokenIndexBefore(doc.tokens, tok.start + 1) + 1] as Token | undefined;
  const fn = EXPR_FUNCTIONS[word];
  if (fn && next?.text === '(') return `**${fn.signature}**\n\n${fn.doc}`;
  const inWhere = head === 'where';
  const p = schemaOf(word);
  if (p && (inWhere || head === 'constraint')) {
    const found = stageAt(doc, position);
    const sp = found?.stage.params.find((x) => x.name === word);
    return paramHover(p) + (sp ? `\n\n---\n\n${domainLine(sp.domain)}` : '');
  }
  const m = findMetric(word);
  if (m && (head === 'objective' || head === 'constraint' || ctx.block.kind === 'objectives' || inWhere)) {
    const better = m.better === 'neither' ? 'neither higher nor lower is better' : `${m.better} is better`;
    return `**${m.name}** — metric (${m.unit}, ${better})\n\n${m.doc}${m.aliasOf ? `\n\nSame as \`${m.aliasOf}\`.` : ''}`;
  }
  if (st.length === 0) {
    const d = BLOCK_KEYWORDS[ctx.block.kind]?.[word];
    if (d) return `**${word}**\n\n${d}`;
  }
  if (WORD_DOCS[word]) return `**${word}**\n\n${WORD_DOCS[word]}`;
  // Any other keyword of the language (new statements bring their doc with their token).
  if (Object.prototype.hasOwnProperty.call(KEYWORDS, word)) return `**${word}**\n\n${KEYWORDS[word]}`;
  return null;
}

function paramHover(p: ParamSchema): string {
  const parts = [`**${p.name}**: \`${p.type}\` = \`${literal(p.default)}\``, p.doc];
  if (p.choices) parts.push(`Choices: ${p.choices.map((c) => `\`${c}\``).join(', ')}`);
  if (p.min !== undefined || p.max !== undefined) parts.push(`Sensible range: ${p.min ?? '−∞'} … ${p.max ?? '∞'}`);
  return parts.join('\n\n');
}

/** "Domain: 5 .. 50 step 5 · 10 values". */
export function domainLine(d: Domain): string {
  const n = domainSize(d);
  const count = Number.isFinite(n) ? `${formatCount(n)} value${n === 1 ? '' : 's'}` : 'continuous';
  return `Domain: \`${domainText(d)}\` · ${count}`;
}

/** A domain written as in a study. */
export function domainText(d: Domain): string {
  switch (d.kind) {
    case 'list':
      return `[${d.values.map(literal).join(', ')}]`;
    case 'range':
      return `${d.lo} .. ${d.hi} step ${d.step}`;
    case 'continuous':
      return `${d.lo} .. ${d.hi}`;
    case 'log':
      return `log ${d.lo} .. ${d.hi} count ${d.count}`;
  }
}

function stageHover(study: StudyModel, stage: StageModel): string {
  const size = `${stage.sizeExact ? '' : '≈ '}${formatCount(stage.size)}`;
  const what = stage.search.method === 'grid' ? 'feasible combinations' : `trials (${stage.search.method} search)`;
  const params = stage.params.map((p) => `- \`${p.name}\`: ${domainLine(p.domain).replace(/^Domain: /, '')}`).join('\n');
  const where = stage.where.length ? `\n\nFiltered by ${stage.where.length} \`where\` condition${stage.where.length > 1 ? 's' : ''}.` : '';
  return `**Stage "${stage.name}"** of "${study.name}" — ${size} backtests (${what})\n\n${params}${where}`;
}

function studyHover(study: StudyModel): string {
  const total = `${study.totalExact ? '' : '≈ '}${formatCount(study.total)}`;
  const stages = study.stages.map((s) => `- "${s.name}": ${s.sizeExact ? '' : '≈ '}${formatCount(s.size)} (${s.search.method})`).join('\n');
  return `**Study "${study.name}"** — ${total} backtests${study.strategy ? ` of \`${study.strategy.name}\`` : ''}\n\n${stages}${study.hasErrors ? '\n\n⚠ The study has errors: fix them to run it.' : ''}`;
}
