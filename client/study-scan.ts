/**
 * A small, tolerant scanner over `.optstudy` text for the client's own needs: which study is
 * under the cursor, where its `strategy` statement and stage `param` lines are (for Apply Best
 * Parameters), its objectives' directions (for reopened runs) and whether it needs a trusted
 * workspace. The client may not import the grammar's parser (it lives with the server), and
 * these few facts do not need it: the scanner skips comments and strings, matches braces, and
 * never throws on half-typed text. Pure: no vscode.
 */

export interface Tok {
  kind: 'word' | 'string' | 'number' | 'punct';
  text: string;
  start: number;
  end: number;
}

/** Tokens of the text, comments dropped. Dates (`2005-01-01`) and percents (`0.1%`) are one token. */
export function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  const re = /(\/\/[^\n]*)|(\/\*[\s\S]*?(?:\*\/|$))|("(?:[^"\\\n]|\\.)*"?)|(\d{4}-\d{2}-\d{2}|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?%?)|([A-Za-z_][A-Za-z0-9_]*)|(\.\.|[{}[\](),=:<>!*/+\-^%])|(\s+)|(.)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    if (m[1] || m[2] || m[7]) continue;
    const start = m.index;
    const end = start + m[0].length;
    if (m[3]) out.push({ kind: 'string', text: m[3], start, end });
    else if (m[4]) out.push({ kind: 'number', text: m[4], start, end });
    else if (m[5]) out.push({ kind: 'word', text: m[5], start, end });
    else out.push({ kind: 'punct', text: m[0], start, end });
    if (end === start) break;
  }
  return out;
}

const unquote = (s: string) => (s.startsWith('"') ? s.slice(1, s.endsWith('"') && s.length > 1 ? -1 : undefined).replace(/\\(.)/g, '$1') : s);

export interface Span {
  start: number;
  end: number;
}

export interface ParamLine extends Span {
  name: string;
  /** The domain after `in`, as written (its tokens, without a trailing comment). */
  domain?: Span;
}

export interface StageInfo extends Span {
  name: string;
  params: ParamLine[];
}

export interface OverrideInfo extends Span {
  name: string;
  value: string;
  /** The value's span. */
  valueSpan: Span;
}

export interface StrategyRef extends Span {
  /** A built-in or declared name; absent for `strategy module "…"`. */
  name?: string;
  module?: string;
  /** End of the name / module string: where an override block is inserted when there is none. */
  headEnd: number;
  block?: { open: number; close: number; overrides: OverrideInfo[] };
}

export interface StudyInfo extends Span {
  name: string;
  /** Offset of the `{` and `}` of the body (close = text length when unterminated). */
  open: number;
  close: number;
  strategy?: StrategyRef;
  stages: StageInfo[];
  /** `objective`/`objectives { … }`: direction and expression text, in order. */
  objectives: { direction: 'maximize' | 'minimize'; expr: string }[];
}

export interface StrategyDecl {
  name: string;
  kind: 'command' | 'module' | 'plain';
  target?: string;
}

export interface ScanResult {
  studies: StudyInfo[];
  strategies: Map<string, StrategyDecl>;
}

/** Index of the token closing the brace opened at `i` (or the last index when unterminated). */
function matchBrace(toks: Tok[], i: number): number {
  let depth = 0;
  for (let k = i; k < toks.length; k++) {
    const t = toks[k]!.text;
    if (toks[k]!.kind !== 'punct') continue;
    if (t === '{') depth++;
    else if (t === '}' && --depth === 0) return k;
  }
  return toks.length - 1;
}

/** End of the line holding `from`. */
function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl;
}

/** Scans the text. Never throws. */
export function scanStudies(text: string): ScanResult {
  const toks = tokenize(text);
  const studies: StudyInfo[] = [];
  const strategies = new Map<string, StrategyDecl>();
  let i = 0;
  while (i < toks.length) {
    const t = toks[i]!;
    if (t.kind === 'word' && t.text === 'strategy' && toks[i + 1]?.kind === 'word') {
      const name = toks[i + 1]!.text;
      const kw = toks[i + 2];
      let kind: StrategyDecl['kind'] = 'plain';
      let target: string | undefined;
      if (kw?.kind === 'word' && (kw.text === 'command' || kw.text === 'module')) {
        kind = kw.text;
        if (toks[i + 3]?.kind === 'string') target = unquote(toks[i + 3]!.text);
      }
      strategies.set(name, { name, kind, target });
      let k = i + 2;
      while (k < toks.length && !(toks[k]!.text === '{' && toks[k]!.kind === 'punct') && !(toks[k]!.kind === 'word' && (toks[k]!.text === 'study' || toks[k]!.text === 'strategy'))) k++;
      i = toks[k]?.text === '{' ? matchBrace(toks, k) + 1 : k;
      continue;
    }
    if (t.kind === 'word' && t.text === 'study') {
      const nameTok = toks[i + 1];
      const name = nameTok?.kind === 'string' ? unquote(nameTok.text) : nameTok?.kind === 'word' ? nameTok.text : '';
      let k = i + 1;
      while (k < toks.length && toks[k]!.text !== '{' && !(toks[k]!.kind === 'word' && toks[k]!.text === 'study')) k++;
      if (toks[k]?.text !== '{') {
        i = k;
        continue;
      }
      const closeIdx = matchBrace(toks, k);
      const closeTok = toks[closeIdx]!;
      const closed = closeTok.text === '}' && closeIdx > k;
      const study: StudyInfo = {
        name,
        start: t.start,
        end: closed ? closeTok.end : text.length,
        open: toks[k]!.start,
        close: closed ? closeTok.start : text.length,
        stages: [],
        objectives: [],
      };
      scanBody(text, toks, k + 1, closed ? closeIdx : toks.length, study);
      studies.push(study);
      i = closeIdx + 1;
      continue;
    }
    i++;
  }
  return { studies, strategies };
}

function scanBody(text: string, toks: Tok[], from: number, to: number, s: StudyInfo): void {
  let i = from;
  while (i < to) {
    const t = toks[i]!;
    if (t.kind === 'punct' && t.text === '{') i = matchBrace(toks, i) + 1;
    else if (t.kind === 'word' && t.text === 'strategy') {
      const { ref, next } = scanStrategy(text, toks, i);
      s.strategy = ref;
      i = next;
    } else if (t.kind === 'word' && (t.text === 'objective' || t.text === 'objectives')) i = scanObjectives(text, toks, i, to, s);
    else if (t.kind === 'word' && t.text === 'stage') {
      const found = scanStage(text, toks, i, to);
      if (found) s.stages.push(found.stage);
      i = found ? found.next : i + 1;
    } else i++;
  }
}

const wordAt = (toks: Tok[], k: number): string | undefined => (toks[k]?.kind === 'word' ? toks[k]!.text : undefined);

/** `strategy NAME` or `strategy module "…"`, with its `{ name = value … }` overrides. */
function scanStrategy(text: string, toks: Tok[], i: number): { ref: StrategyRef; next: number } {
  const t = toks[i]!;
  const word = (k: number) => wordAt(toks, k);
  const ref: StrategyRef = { start: t.start, end: t.end, headEnd: t.end };
  let k = i + 1;
  if (word(k) === 'module' && toks[k + 1]?.kind === 'string') {
    ref.module = unquote(toks[k + 1]!.text);
    ref.headEnd = toks[k + 1]!.end;
    k += 2;
  } else if (word(k)) {
    ref.name = toks[k]!.text;
    ref.headEnd = toks[k]!.end;
    k += 1;
  }
  ref.end = ref.headEnd;
  if (toks[k]?.text === '{' && toks[k]!.kind === 'punct') {
    const c = matchBrace(toks, k);
    const overrides: OverrideInfo[] = [];
    for (let j = k + 1; j < c; j++) {
      if (toks[j]!.kind === 'word' && toks[j + 1]?.text === '=' && toks[j + 2] && j + 2 < c) {
        let v = j + 2;
        let vStart = toks[v]!.start;
        // A negative number lexes as one token; a leading unary minus on a word does not occur in literals.
        if (toks[v]!.text === '-' && toks[v + 1]) v++;
        overrides.push({ name: toks[j]!.text, value: text.slice(vStart, toks[v]!.end), valueSpan: { start: vStart, end: toks[v]!.end }, start: toks[j]!.start, end: toks[v]!.end });
        j = v;
      }
    }
    ref.block = { open: toks[k]!.start, close: toks[c]!.start, overrides };
    ref.end = toks[c]!.end;
    k = c + 1;
  }
  return { ref, next: k };
}

/** Each `maximize|minimize EXPR` up to the end of its line (or the block's brace): the index after them. */
function scanObjectives(text: string, toks: Tok[], i: number, to: number, s: StudyInfo): number {
  const t = toks[i]!;
  const word = (k: number) => wordAt(toks, k);
  let k = i + 1;
  const stop = t.text === 'objectives' && toks[k]?.text === '{' ? matchBrace(toks, k) : -1;
  if (stop >= 0) k++;
  while (k < (stop >= 0 ? stop : to) && (word(k) === 'maximize' || word(k) === 'minimize')) {
    const dir = toks[k]!.text as 'maximize' | 'minimize';
    const exprStart = toks[k + 1]?.start ?? toks[k]!.end;
    const eol = lineEnd(text, exprStart);
    let j = k + 1;
    while (j < (stop >= 0 ? stop : to) && toks[j]!.start < eol) j++;
    const exprEnd = j > k + 1 ? toks[j - 1]!.end : exprStart;
    s.objectives.push({ direction: dir, expr: text.slice(exprStart, exprEnd).trim() });
    k = j;
    if (stop < 0) break;
  }
  return stop >= 0 ? stop + 1 : k;
}

/** `stage "name" { … }` and its `param NAME in DOMAIN` lines; null when its brace is missing. */
function scanStage(text: string, toks: Tok[], i: number, to: number): { stage: StageInfo; next: number } | null {
  const t = toks[i]!;
  const nameTok = toks[i + 1];
  let k = i + 1;
  while (k < to && toks[k]!.text !== '{') k++;
  if (k >= to) return null;
  const c = Math.min(matchBrace(toks, k), to - 1);
  const st: StageInfo = { name: nameTok?.kind === 'string' ? unquote(nameTok.text) : '', start: t.start, end: toks[c]!.end, params: [] };
  for (let j = k + 1; j < c; j++) {
    const pj = toks[j]!;
    if (pj.kind === 'punct' && pj.text === '{') {
      j = matchBrace(toks, j);
      continue;
    }
    if (pj.kind === 'word' && pj.text === 'param' && toks[j + 1]?.kind === 'word') {
      const end = Math.min(lineEnd(text, pj.start), toks[c]!.start);
      const line: ParamLine = { name: toks[j + 1]!.text, start: pj.start, end };
      if (toks[j + 2]?.text === 'in' && toks[j + 3] && toks[j + 3]!.start < end) {
        let last = j + 3;
        while (toks[last + 1] && toks[last + 1]!.end <= end) last++;
        line.domain = { start: toks[j + 3]!.start, end: toks[last]!.end };
      }
      st.params.push(line);
    }
  }
  return { stage: st, next: c + 1 };
}

/** The study enclosing `offset`, else the nearest one before it, else the first. */
export function studyAt(scan: ScanResult, offset: number): StudyInfo | undefined {
  const inside = scan.studies.find((s) => offset >= s.start && offset <= s.end);
  if (inside) return inside;
  const before = scan.studies.filter((s) => s.end <= offset).at(-1);
  return before ?? scan.studies[0];
}

/** The stage enclosing `offset` within a study. */
export function stageAt(study: StudyInfo, offset: number): StageInfo | undefined {
  return study.stages.find((st) => offset >= st.start && offset <= st.end);
}

/**
 * Whether running the study needs a trusted workspace: a `strategy module "…"`, or a strategy
 * declared with `command`/`module` in the file. Built-ins run anywhere.
 */
export function needsTrust(scan: ScanResult, study: StudyInfo): { needed: boolean; why?: string } {
  const ref = study.strategy;
  if (!ref) return { needed: false };
  if (ref.module) return { needed: true, why: `strategy module "${ref.module}" runs code from the workspace` };
  const decl = ref.name ? scan.strategies.get(ref.name) : undefined;
  if (decl && decl.kind !== 'plain') {
    return { needed: true, why: decl.kind === 'command' ? `strategy ${decl.name} runs the command "${decl.target ?? ''}"` : `strategy ${decl.name} loads the module "${decl.target ?? ''}"` };
  }
  return { needed: false };
}

/** Offset of a 0-based line/character in the text. */
export function offsetAt(text: string, line: number, character: number): number {
  let off = 0;
  for (let l = 0; l < line; l++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(text.length, off + character);
}
