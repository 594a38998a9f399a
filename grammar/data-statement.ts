/**
 * `data` statements: files (one, a list, or a basket), the range, and the options block that
 * says how to read the files — `columns { date "Datum", close 5 }`, `date_format "DD.MM.YYYY"`,
 * `prices check|repair|allow`. Pure checks; the files themselves are checked by the server.
 */
import { isAggregateCall } from './expr';
import { IssueCodes } from './issue-codes';
import type { DataAst, DataFeedModel, Diagnostic, Expr, LiteralAst, OptionAst, Range, Severity } from './model';

/** Options of a `data` block, with one-line docs (completion and hover use these). */
export const DATA_OPTIONS: Readonly<Record<string, { doc: string; values?: readonly string[] }>> = Object.freeze({
  columns: { doc: 'Which header names (or column numbers from 1) hold the prices: `columns { date "Datum", close "Schluss" }`. Roles: date, time, open, high, low, close, volume, openinterest.' },
  date_format: {
    doc: 'How dates are written, when the values cannot tell: `"DD/MM/YYYY"`, `"MM/DD/YYYY"`, `"DD.MM.YYYY hh:mm"`, or `epoch` / `epoch_ms` (seconds / milliseconds since 1970, UTC).',
    values: ['"DD/MM/YYYY"', '"MM/DD/YYYY"', '"DD.MM.YYYY"', '"DD.MM.YYYY hh:mm"', '"YYYY-MM-DD hh:mm:ss"', 'epoch', 'epoch_ms'],
  },
  prices: {
    doc: 'What to do with rows whose prices cannot be traded: `check` (default: refuse the file, naming the line), `repair` (skip rows with a missing, zero, negative or infinite price; widen High/Low over Open/Close), `allow` (keep the values as written, e.g. negative prices of spreads).',
    values: ['check', 'repair', 'allow'],
  },
});

export const COLUMN_ROLE_NAMES = ['date', 'time', 'open', 'high', 'low', 'close', 'volume', 'openinterest'] as const;

interface Sink {
  report(severity: Severity, code: string, message: string, range: Range, extra?: Partial<Diagnostic>): void;
}

/** `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]` naming a real day and time. */
export function isValidStamp(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (!m) return false;
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(Number(m[1]), mo, 0)).getUTCDate()) return false;
  return m[4] === undefined || (Number(m[4]) <= 23 && Number(m[5]) <= 59 && Number(m[6] ?? 0) <= 59);
}

/** The feeds one `data` statement adds (empty while it is being typed). */
export function dataFeeds(st: DataAst, sink: Sink): DataFeedModel[] {
  if (st.list && st.paths.length === 0) sink.report('error', IssueCodes.InvalidValue, 'the list of data files is empty', st.list);
  const from = stamp(st.from, 'from', sink);
  const to = stamp(st.to, 'to', sink);
  if (from && to && from > to && st.from && st.to)
    sink.report('error', IssueCodes.DateOrder, `'from' ${from} is after 'to' ${to}`, { start: st.from.range.start, end: st.to.range.end }, { data: { from: to, to: from } });
  const options = dataOptions(st.options, sink);
  return st.paths.map((p) => {
    if (p.value.trim() === '') sink.report('error', IssueCodes.InvalidValue, 'the data path is empty', p.range);
    return { path: p.value, ...(from ? { from } : {}), ...(to ? { to } : {}), ...options };
  });
}

function stamp(l: LiteralAst | undefined, what: string, sink: Sink): string | undefined {
  if (!l) return undefined;
  const text = l.kind === 'date' ? l.value : l.kind === 'string' ? l.value.trim().replace(' ', 'T') : undefined;
  if (text === undefined) {
    sink.report('error', IssueCodes.InvalidDate, `'${what}' expects a date like 2005-01-01 or a time like 2006-01-02T09:30, not ${describe(l)}`, l.range);
    return undefined;
  }
  if (!isValidStamp(text)) {
    sink.report('error', IssueCodes.InvalidDate, `${l.kind === 'string' ? JSON.stringify(l.value) : text} is not a calendar date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM[:SS])`, l.range);
    return undefined;
  }
  return text;
}

function describe(l: LiteralAst): string {
  return l.kind === 'number' ? `the number ${l.text}` : l.kind === 'ident' ? `'${l.value}'` : l.kind === 'duration' ? `the duration ${l.text}` : `a ${l.kind}`;
}

type FeedOptions = Pick<DataFeedModel, 'columns' | 'dateFormat' | 'prices'>;

function dataOptions(options: OptionAst[], sink: Sink): FeedOptions {
  const out: FeedOptions = {};
  const bad = (msg: string, r: Range): void => sink.report('error', IssueCodes.InvalidDataOption, msg, r);
  for (const o of options) {
    const key = o.key.name;
    if (!(key in DATA_OPTIONS)) {
      bad(`unknown data option '${key}': the options are ${Object.keys(DATA_OPTIONS).join(', ')}`, o.key.range);
      continue;
    }
    if (key === 'columns') {
      if (!o.block) bad('columns takes a block: columns { date "Datum", close "Schluss" }', o.range);
      else out.columns = columnMap(o.block, bad);
    } else if (key === 'date_format') {
      const v = o.value;
      const text = v?.kind === 'string' ? v.value : v?.kind === 'ident' && (v.value === 'epoch' || v.value === 'epoch_ms') ? v.value : undefined;
      if (text === undefined) bad('date_format takes a pattern in quotes, like "DD.MM.YYYY" or "MM/DD/YYYY hh:mm", or epoch / epoch_ms', v?.range ?? o.range);
      else if (!/^epoch(_ms)?$/.test(text) && !/^(?=.*YYYY)(?=.*MM)(?=.*DD)/.test(text)) bad(`date_format ${JSON.stringify(text)} needs YYYY, MM and DD (like "DD.MM.YYYY"), or epoch / epoch_ms`, v!.range);
      else out.dateFormat = text;
    } else {
      const v = o.value;
      const mode = v?.kind === 'ident' || v?.kind === 'string' ? v.value : undefined;
      if (mode !== 'check' && mode !== 'repair' && mode !== 'allow') bad('prices takes check, repair or allow', v?.range ?? o.range);
      else out.prices = mode;
    }
  }
  return out;
}

function columnMap(entries: OptionAst[], bad: (msg: string, r: Range) => void): NonNullable<DataFeedModel['columns']> {
  const map: NonNullable<DataFeedModel['columns']> = {};
  for (const e of entries) {
    const role = e.key.name.toLowerCase();
    if (!(COLUMN_ROLE_NAMES as readonly string[]).includes(role)) {
      bad(`unknown column '${e.key.name}': the columns are ${COLUMN_ROLE_NAMES.join(', ')}`, e.key.range);
      continue;
    }
    const v = e.value;
    if (v?.kind === 'string' && v.value.trim() !== '') map[role as keyof typeof map] = v.value;
    else if (v?.kind === 'number' && !v.percent && Number.isInteger(v.value) && v.value >= 1) map[role as keyof typeof map] = v.value;
    else bad(`${role} takes the header name in quotes ("Datum") or the column number from 1`, v?.range ?? e.range);
  }
  return map;
}

/** Built-ins that trade several feeds (the others trade data 0 only). */
export const MULTI_FEED_BUILTINS: ReadonlySet<string> = new Set(['momentum_rotation']);

/**
 * Whether the study's feeds fit together and fit its strategy: a basket stands alone, a file
 * is named once, a basket runs a single-feed strategy, a single-feed built-in given several
 * feeds would ignore all but the first.
 */
export function checkFeeds(statements: DataAst[], feeds: DataFeedModel[], basket: boolean, strategy: { name: string; kind: string } | null, sink: Sink): void {
  const code = IssueCodes.InvalidDataFeeds;
  const basketSt = statements.find((s) => s.basket);
  if (basketSt && statements.length > 1) {
    for (const s of statements) if (s !== basketSt) sink.report('error', code, 'a study with a data basket has no other data statement: put every symbol in the basket list', s.range);
  }
  const seen = new Map<string, Range>();
  for (const s of statements)
    for (const p of s.paths) {
      const first = seen.get(p.value);
      if (first) sink.report('warning', code, `${JSON.stringify(p.value)} is already a data feed of this study`, p.range, { related: [{ range: first, message: 'first named here' }] });
      else seen.set(p.value, p.range);
    }
  if (!strategy) return;
  if (strategy.kind === 'command' && feeds.length > 1 && statements[0]) {
    // The command protocol hands the process one file (docs/strategies.md).
    sink.report('error', code, 'an external command strategy reads one data file: name one file, or use a module strategy for several feeds or a basket', statements[0].list ?? statements[0].range);
    return;
  }
  if (strategy.kind === 'backtrader' && basket && basketSt) {
    // The bridge runs one Cerebro per trial with every feed in it: there is no per-symbol run.
    sink.report('error', code, `a backtrader strategy runs one Cerebro per trial: a basket is not supported for it; write data [...] (its feeds, data 0 first), or run each symbol in a study of its own`, basketSt.basket!);
    return;
  }
  const multi = strategy.kind === 'builtin' && MULTI_FEED_BUILTINS.has(strategy.name);
  if (basket && basketSt) {
    if (multi) sink.report('error', code, `'${strategy.name}' trades several feeds at once; a basket runs a single-feed strategy on each symbol: write data [...] without 'basket'`, basketSt.basket!);
    else if (feeds.length === 1) sink.report('warning', code, 'a basket of one symbol is a plain study: add more files to the list', basketSt.basket!);
  } else if (multi && feeds.length === 1 && statements[0]) {
    sink.report('warning', code, `'${strategy.name}' rotates between several feeds; with one file it can only hold that one: write data ["a.txt", "b.txt", …]`, statements[0].range);
  } else if (strategy.kind === 'builtin' && !multi && feeds.length > 1 && statements[0]) {
    sink.report('warning', code, `'${strategy.name}' trades data 0 only: the other files are loaded but unused; write data basket [...] to run it on each file`, (statements[0].list ?? statements[0].range));
  }
}

/**
 * One-argument `mean`/`median`/`min`/`max` aggregate over a basket's symbols; in a study that
 * is not a basket they are the value itself, which is worth a word.
 */
export function checkAggregates(exprs: Expr[], basket: boolean, sink: Sink): void {
  if (basket) return;
  const walk = (e: Expr): void => {
    if (e.kind === 'call') {
      if (isAggregateCall(e))
        sink.report('warning', IssueCodes.AggregateWithoutBasket, `${e.fn}(…) of one value aggregates over the symbols of a basket (data basket [...]); here it is the value itself`, e.range);
      e.args.forEach(walk);
    } else if (e.kind === 'unary') walk(e.operand);
    else if (e.kind === 'binary') {
      walk(e.left);
      walk(e.right);
    }
  };
  exprs.forEach(walk);
}
