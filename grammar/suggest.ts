/** "Did you mean …": the closest known name by edit distance (with transpositions). */

/** Optimal-string-alignment distance between two strings. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/**
 * The closest candidate to `name`, if close enough to be a likely typo: at most 1 edit for
 * short names, 2 for names of 5+ characters, 3 for 9+; a candidate that starts with
 * or contains the name (`draw` → `max_drawdown_pct`) also counts when nothing closer does.
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const budget = lower.length >= 9 ? 3 : lower.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestD = Infinity;
  let contains: string | undefined;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestD || (d === bestD && best !== undefined && c.length < best.length)) {
      bestD = d;
      best = c;
    }
    const cl = c.toLowerCase();
    if (contains === undefined && ((lower.length >= 3 && cl.includes(lower)) || (cl.length >= 3 && lower.startsWith(cl)))) contains = c;
  }
  if (best !== undefined && bestD <= budget) return best;
  return contains;
}
