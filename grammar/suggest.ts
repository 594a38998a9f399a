/**
 * "Did you mean …": the closest known name by edit distance (with transpositions). Bounded:
 * candidates whose length differs from the name's by more than the allowed distance are never
 * compared, and a comparison stops once every alignment is over the bound, so a name a
 * megabyte long costs a length check per candidate, not a megabyte-sized table.
 */

// Reused rows of the distance table: one allocation for every comparison of a check run.
let rows = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];

/**
 * Optimal-string-alignment distance between two strings; with `max`, any distance above it is
 * reported as `max + 1` (and computed only as far as needed to know that).
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  const m = a.length;
  const n = b.length;
  if (Math.abs(m - n) > max) return max + 1;
  if (m === 0) return n;
  if (n === 0) return m;
  if (rows[0]!.length < n + 1) rows = [new Int32Array(n + 1), new Int32Array(n + 1), new Int32Array(n + 1)];
  let [prev2, prev, cur] = rows as [Int32Array, Int32Array, Int32Array];
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    // A transposition reaches back two rows: stop only when both rows are over the bound.
    if (rowMin > max && (i === 1 || minOf(prev, n) > max)) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return Math.min(prev[n]!, max + 1);
}

function minOf(row: Int32Array, n: number): number {
  let m = Infinity;
  for (let j = 0; j <= n; j++) if (row[j]! < m) m = row[j]!;
  return m;
}

/**
 * What one check run may spend on "did you mean" (characters compared, counted by `closest`):
 * the candidates are user names too (a strategy's parameters), so without an allowance N
 * unknown names among N parameters cost N² comparisons. 2,000,000 characters is about 100,000
 * comparisons of ordinary names, some tens of milliseconds: every suggestion of a real study
 * fits, and a megabyte of unknown names stops being offered suggestions instead of taking
 * seconds.
 */
export class SuggestionWork {
  static readonly ALLOWANCE = 2_000_000;
  /** Characters compared by every `closest` of this process: a count of work for tests. */
  static total = 0;
  left = SuggestionWork.ALLOWANCE;
}

/** The longest name worth a "did you mean": longer ones are not typos of a short keyword. */
const MAX_SUGGESTED_LENGTH = 200;

/**
 * The closest candidate to `name`, if close enough to be a likely typo: at most 1 edit for
 * short names, 2 for names of 5+ characters, 3 for 9+; a candidate that starts with
 * or contains the name (`draw` → `max_drawdown_pct`) also counts when nothing closer does.
 */
export function closest(name: string, candidates: Iterable<string>, work?: SuggestionWork): string | undefined {
  if (name.length > MAX_SUGGESTED_LENGTH) return undefined;
  const lower = name.toLowerCase();
  const budget = lower.length >= 9 ? 3 : lower.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestD = Infinity;
  let contains: string | undefined;
  for (const c of candidates) {
    if (c === name) continue;
    // Each comparison costs about the two lengths; once the check's allowance is spent, the
    // candidates not yet compared are not suggested.
    if (work) {
      if (work.left <= 0) break;
      work.left -= lower.length + c.length;
    }
    SuggestionWork.total += lower.length + c.length;
    const cl = c.toLowerCase();
    const d = editDistance(lower, cl, budget);
    if (d <= budget && (d < bestD || (d === bestD && best !== undefined && c.length < best.length))) {
      bestD = d;
      best = c;
    }
    if (contains === undefined && ((lower.length >= 3 && cl.includes(lower)) || (cl.length >= 3 && lower.startsWith(cl)))) contains = c;
  }
  if (best !== undefined) return best;
  return contains;
}
