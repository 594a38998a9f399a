/**
 * Hover on the NAME of `strategy X backtrader "FILE.py:NAME"`: a Strategy class's docstring and
 * parameters with their defaults, a cerebro factory's signature and docstring, as the bridge
 * reads them from the file (server/strategies/backtrader/describe.ts `listBacktraderNames`:
 * user code, so the server asks in trusted workspaces only). Docstrings are the user's text:
 * escaped, never rendered as markup.
 */
import { MarkupKind, type Hover } from 'vscode-languageserver';
import type { Position } from '../../grammar/index';
import type { BacktraderName } from '../strategies/backtrader/describe';
import { cursorContext } from './cursor-context';
import type { ParsedDocument } from './document';
import { tokenAt } from './lexer';

/** The NAME after the colon under `position` in a backtrader SPEC string: the file part, the name and its range. */
export function backtraderNameAt(doc: ParsedDocument, position: Position): { where: string; name: string; range: { start: Position; end: Position } } | undefined {
  const offset = doc.offsetAt(position);
  const tok = tokenAt(doc.tokens, offset);
  if (!tok || tok.kind !== 'string') return undefined;
  const st = cursorContext(doc.tokens, tok.start, doc.text, doc.topLevel).statement;
  if (st.length !== 3 || st[0]!.text !== 'strategy' || st[2]!.text !== 'backtrader') return undefined;
  const inner = tok.text.replace(/^"/, '').replace(/"$/, '');
  const colon = inner.lastIndexOf(':');
  const nameStart = tok.start + 1 + colon + 1;
  if (colon <= 0 || offset < nameStart || inner.includes('\n')) return undefined;
  const raw = inner.slice(colon + 1);
  const lead = raw.length - raw.trimStart().length;
  const name = raw.trim();
  if (!name) return undefined;
  const start = nameStart + lead;
  return { where: inner.slice(0, colon).trim(), name, range: { start: doc.positionAt(start), end: doc.positionAt(start + name.length) } };
}

/** The hover of NAME from the file's names; null when the file does not define it (a diagnostic says so). */
export function backtraderNameHover(site: { where: string; name: string; range: { start: Position; end: Position } }, names: readonly BacktraderName[]): Hover | null {
  const n = names.find((x) => x.name === site.name);
  if (!n) return null;
  const doc = n.fullDoc || n.doc;
  const parts: string[] = [];
  if (n.kind === 'strategy') {
    parts.push(`**${escapeMarkdown(n.name)}** — backtrader strategy (\`bt.Strategy\`) in ${code(site.where)}`);
    if (doc) parts.push(escapeMarkdown(doc));
    const rows = (n.params ?? []).map((p) => `| ${code(p.name)} | ${code(p.default)} |`);
    parts.push(rows.length ? `| parameter | default |\n|---|---|\n${rows.join('\n')}` : 'No parameters.');
    parts.push('Run with the bridge\'s default Cerebro: the study\'s data, cash, commission and sizing.');
  } else {
    parts.push(`**${escapeMarkdown(n.name)}** — cerebro factory in ${code(site.where)}`);
    parts.push(fence('python', `def ${n.detail}`));
    if (doc) parts.push(escapeMarkdown(doc));
    parts.push('Called with each trial\'s parameters; it builds the whole Cerebro (feeds, broker, sizer, analyzers, strategy).');
  }
  return { contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n') }, range: site.range };
}

/** Text shown as itself in Markdown: every character Markdown could read as markup is escaped. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, '\\$&');
}

/** An inline code span that holds any text (a fence longer than its longest run of backticks). */
function code(text: string): string {
  const run = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const tick = '`'.repeat(run + 1);
  return run ? `${tick} ${text} ${tick}` : `${tick}${text}${tick}`;
}

function fence(lang: string, text: string): string {
  const run = Math.max(2, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const f = '`'.repeat(run + 1);
  return `${f}${lang}\n${text}\n${f}`;
}
