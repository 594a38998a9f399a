/**
 * Seeded mutations of real studies for the fuzz suites (test/unit/grammar-fuzz.test.ts over the
 * language, test/lsp/fuzz.test.ts over the built language server). The seed comes from
 * `OPTSTUDY_FUZZ_SEED` or the clock, so every run explores new inputs; suites print it, and
 * the same seed replays the same inputs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * CPU time (ms) of this thread, from /proc/thread-self/schedstat where there is one (else the
 * wall clock): a hang bound on it holds on a machine busier than its cores.
 */
export function threadCpuMs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return performance.now();
  }
}

/** This run's seed: `OPTSTUDY_FUZZ_SEED` when set, else from the clock. */
export function fuzzSeed(): number {
  const env = process.env['OPTSTUDY_FUZZ_SEED'];
  return env !== undefined && env !== '' ? Number(env) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The study files the mutations start from: samples and the valid and invalid fixtures. */
export function corpus(): { name: string; text: string }[] {
  const dirs = [path.join(ROOT, 'samples'), path.join(ROOT, 'test', 'fixtures', 'studies', 'valid'), path.join(ROOT, 'test', 'fixtures', 'studies', 'invalid'), path.join(ROOT, 'test', 'fixtures', 'lsp')];
  const out: { name: string; text: string }[] = [];
  for (const d of dirs) {
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort())
      if (f.endsWith('.optstudy') && fs.statSync(path.join(d, f)).isFile()) out.push({ name: path.relative(ROOT, path.join(d, f)), text: fs.readFileSync(path.join(d, f), 'utf8') });
  }
  return out;
}

/** Tokens as a user sees them: words, numbers, strings, comments, punctuation, blanks. */
export function roughTokens(text: string): string[] {
  return text.match(/"[^"\n]*"?|\/\/[^\n]*|\/\*[\s\S]*?\*\/|\d[\w.%-]*|[A-Za-z_]\w*|\.\.|[<>=!]=|\s+|./g) ?? [];
}

/** Pieces a mutation may insert: the language's words, punctuation, odd characters, and a few long runs. */
const PIECES = [
  'study', 'strategy', 'stage', 'param', 'in', 'step', 'log', 'count', 'search', 'bayes', 'grid', 'where', 'objective', 'objectives', 'maximize', 'minimize',
  'constraint', 'data', 'cash', 'commission', 'sizing', 'percent', 'fixed', 'seed', 'workers', 'timeout', 'retries', 'early_stop', 'validate', 'walkforward',
  'holdout', 'executor', 'redis', 'warm_start', 'module', 'command', 'and', 'or', 'not', 'true', 'false', 'sharpe', 'trades', 'max', 'abs', 'fast', 'slow',
  '{', '}', '[', ']', '(', ')', ',', ':', '=', '..', '<', '<=', '==', '!=', '+', '-', '*', '/', '^', '%', '"', '"x"', '//', '/*', '*/', '\n', ' ', '\t', '\r\n',
  '0', '1', '-1', '1e308', '1e-300', '0.1%', '2005-13-40', '30s', '999999999999', 'NaN', '@', '#', '\u00e9', '\ud83d\ude80', '\u0000', '\ufeff', '\u2028',
];

/**
 * One mutant of `text`: 1–4 edits among token deletions, duplications, swaps, insertions of
 * language pieces, line deletions/duplications/moves, cuts, character flips and (rarely) long
 * repetitions. `r` is the seeded generator; the result is deterministic for a given state.
 */
export function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  let toks = roughTokens(text);
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const i = Math.floor(r() * (toks.length + 1));
    const op = r();
    if (op < 0.2 && toks.length > 1) toks.splice(i, 1);
    else if (op < 0.35 && toks.length > 0) toks.splice(i, 0, toks[Math.min(i, toks.length - 1)]!);
    else if (op < 0.5 && toks.length > 2) {
      const j = Math.min(toks.length - 1, i + 1 + Math.floor(r() * 3));
      const k = Math.min(i, toks.length - 1);
      [toks[k], toks[j]] = [toks[j]!, toks[k]!];
    } else if (op < 0.7) toks.splice(i, 0, pick(PIECES));
    else if (op < 0.85) {
      // Whole lines: delete, duplicate or move one.
      const lines = toks.join('').split('\n');
      const a = Math.floor(r() * lines.length);
      const b = Math.floor(r() * lines.length);
      const kind = r();
      if (kind < 0.4) lines.splice(a, 1);
      else if (kind < 0.7) lines.splice(b, 0, lines[a]!);
      else lines.splice(b, 0, ...lines.splice(a, 1));
      toks = roughTokens(lines.join('\n'));
    } else if (op < 0.93) {
      // A cut: the text up to a random point (typing in progress).
      toks = toks.slice(0, i);
    } else if (op < 0.99 && toks.length > 0) {
      // A character of a token changed.
      const k = Math.min(i, toks.length - 1);
      const t = toks[k]!;
      const c = Math.floor(r() * (t.length + 1));
      toks[k] = t.slice(0, c) + pick(PIECES).slice(0, 1) + t.slice(c + 1);
    } else {
      // Rarely: a long run (a deep nesting, a long name, many repeated statements).
      const unit = pick(['(', '-', 'not ', 'x', '[1,', 'sharpe + ', '  constraint trades > 1\n', '{']);
      toks.splice(i, 0, unit.repeat(50 + Math.floor(r() * 2000)));
    }
  }
  return toks.join('');
}
