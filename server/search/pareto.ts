/**
 * Pareto dominance over loss vectors (all minimized): fast non-dominated sorting and crowding
 * distance for NSGA-II, and an incrementally maintained front for the run's events.
 */

/** True when a is no worse than b everywhere and better somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) return false;
    if (a[i]! < b[i]!) better = true;
  }
  return better;
}

/** Fronts of indexes (front 0 is non-dominated), Deb's fast non-dominated sort. */
export function nonDominatedSort(points: readonly (readonly number[])[]): number[][] {
  const n = points.length;
  const dominatedBy: number[][] = Array.from({ length: n }, () => []);
  const count = new Int32Array(n);
  const fronts: number[][] = [[]];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i]!, points[j]!)) {
        dominatedBy[i]!.push(j);
        count[j]!++;
      } else if (dominates(points[j]!, points[i]!)) {
        dominatedBy[j]!.push(i);
        count[i]!++;
      }
    }
  }
  for (let i = 0; i < n; i++) if (count[i] === 0) fronts[0]!.push(i);
  let f = 0;
  while (fronts[f]!.length) {
    const next: number[] = [];
    for (const i of fronts[f]!)
      for (const j of dominatedBy[i]!) {
        count[j]!--;
        if (count[j] === 0) next.push(j);
      }
    fronts.push(next);
    f++;
  }
  fronts.pop();
  return fronts;
}

/** Crowding distance of each member of one front (Infinity at the extremes). */
export function crowdingDistance(points: readonly (readonly number[])[], front: readonly number[]): Map<number, number> {
  const d = new Map<number, number>(front.map((i) => [i, 0]));
  if (front.length === 0) return d;
  const m = points[front[0]!]!.length;
  for (let k = 0; k < m; k++) {
    const s = [...front].sort((a, b) => points[a]![k]! - points[b]![k]! || a - b);
    const lo = points[s[0]!]![k]!;
    const hi = points[s[s.length - 1]!]![k]!;
    d.set(s[0]!, Infinity);
    d.set(s[s.length - 1]!, Infinity);
    if (hi === lo) continue;
    for (let i = 1; i < s.length - 1; i++)
      d.set(s[i]!, d.get(s[i]!)! + (points[s[i + 1]!]![k]! - points[s[i - 1]!]![k]!) / (hi - lo));
  }
  return d;
}

/**
 * The non-dominated set of everything added so far. Equal loss vectors are all kept (they are
 * not dominated), so the front is complete.
 */
export class ParetoFront<T> {
  private members: { loss: number[]; item: T }[] = [];

  /** Adds a point; returns true when it joined the front. */
  add(loss: number[], item: T): boolean {
    for (const m of this.members) if (dominates(m.loss, loss)) return false;
    this.members = this.members.filter((m) => !dominates(loss, m.loss));
    this.members.push({ loss, item });
    return true;
  }

  get items(): T[] {
    return this.members.map((m) => m.item);
  }

  get size(): number {
    return this.members.length;
  }
}
