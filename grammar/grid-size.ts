/**
 * The grid-size estimator: how many combinations of a stage's values pass its `where`
 * filters, without enumerating the grid when the filters allow it.
 *
 * The filters are split into conjuncts (`a and b`). One-parameter conjuncts filter that
 * parameter's values. Parameters linked by several-parameter conjuncts form components,
 * counted independently and multiplied:
 *  - a component whose conjuncts are all comparisons between two parameters (`fast < slow`,
 *    `a <= b`, `a == b`, …) and whose parameter graph is a tree is counted exactly by dynamic
 *    programming over sorted values and prefix sums — O(n log n), never the product;
 *  - any other component is enumerated when its product is at most `enumerationLimit`;
 *  - otherwise it is estimated from a seeded sample (the result is marked inexact).
 */

import { compileExpr, exprNames } from './expr';
import type { Expr, ParamValue } from './model';

export interface GridParam {
  name: string;
  values: readonly ParamValue[];
}

/**
 * A parameter whose values are listed only if a filter names it: `count` is the number of
 * values `values()` would list. Editors check a study on every keystroke, and a 5-million
 * value range that no `where` mentions only ever contributes its count to the product.
 */
export interface CountedGridParam {
  name: string;
  count: number;
  values: () => readonly ParamValue[];
}

export interface GridSizeOptions {
  /** Largest component product that is enumerated exactly (default 2,000,000). */
  enumerationLimit?: number;
  /** Samples drawn to estimate a component too large to enumerate (default 20,000). */
  samples?: number;
}

export interface GridSize {
  size: number;
  exact: boolean;
}

/** Splits `a and b and c` into its conjuncts. */
function conjuncts(e: Expr, out: Expr[] = []): Expr[] {
  if (e.kind === 'binary' && e.op === 'and') {
    conjuncts(e.left, out);
    conjuncts(e.right, out);
  } else out.push(e);
  return out;
}

type Rel = '<' | '<=' | '>' | '>=' | '==' | '!=';
const FLIP: Record<Rel, Rel> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };

/** `x OP y` with two parameter names, as (x, op, y); else undefined. */
function pairwise(e: Expr): { a: string; op: Rel; b: string } | undefined {
  if (e.kind !== 'binary' || e.left.kind !== 'name' || e.right.kind !== 'name') return undefined;
  if (!['<', '<=', '>', '>=', '==', '!='].includes(e.op)) return undefined;
  if (e.left.name === e.right.name) return undefined;
  return { a: e.left.name, op: e.op as Rel, b: e.right.name };
}

/** Mulberry32: a small seeded generator, so estimates are the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the first element of sorted `xs` that is >= x (or > x when `strict`). */
function lowerBound(xs: Float64Array, x: number, strict: boolean): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (strict ? xs[mid]! <= x : xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Counts the combinations of `params` values that satisfy every `where` expression.
 * Names in `where` that are not among `params` make a conjunct undefined (infeasible).
 */
export function gridSize(params: readonly (GridParam | CountedGridParam)[], where: readonly Expr[], options: GridSizeOptions = {}): GridSize {
  const limit = options.enumerationLimit ?? 2_000_000;
  const samples = options.samples ?? 20_000;
  const byName = new Map(params.map((p) => [p.name, p]));
  // Value lists of the parameters the filters name, listed on first use (never mutated:
  // filtering makes a new array).
  const values = new Map<string, readonly ParamValue[]>();
  const listed = (n: string): readonly ParamValue[] => {
    let v = values.get(n);
    if (!v) {
      const p = byName.get(n)!;
      v = typeof p.values === 'function' ? p.values() : p.values;
      values.set(n, v);
    }
    return v;
  };
  const multi: { expr: Expr; names: string[] }[] = [];

  for (const w of where) {
    for (const c of conjuncts(w)) {
      const used = exprNames(c);
      if (used.some((n) => !byName.has(n))) return { size: 0, exact: true };
      if (used.length === 0) {
        if (compileExpr(c)(() => undefined) !== true) return { size: 0, exact: true };
      } else if (used.length === 1) {
        const n = used[0]!;
        const f = compileExpr(c);
        values.set(
          n,
          listed(n).filter((v) => f((x) => (x === n ? v : undefined)) === true),
        );
      } else {
        for (const n of used) listed(n);
        multi.push({ expr: c, names: used });
      }
    }
  }

  // Components of parameters linked by multi-parameter conjuncts (union-find).
  const parent = new Map<string, string>(params.map((p) => [p.name, p.name]));
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const m of multi) for (let i = 1; i < m.names.length; i++) parent.set(find(m.names[i]!), find(m.names[0]!));

  let size = 1;
  let exact = true;
  const groups = new Map<string, string[]>();
  for (const p of params) {
    const r = find(p.name);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r)!.push(p.name);
  }
  for (const [root, members] of groups) {
    const conds = multi.filter((m) => find(m.names[0]!) === root);
    let part: GridSize;
    if (conds.length === 0) {
      const p = byName.get(members[0]!)!;
      part = { size: values.get(p.name)?.length ?? ('count' in p ? p.count : p.values.length), exact: true };
    }
    else part = countComponent(members, conds, values, limit, samples);
    size *= part.size;
    exact &&= part.exact;
    if (size === 0) return { size: 0, exact: exact };
  }
  return { size, exact };
}

function countComponent(
  members: string[],
  conds: { expr: Expr; names: string[] }[],
  values: Map<string, readonly ParamValue[]>,
  limit: number,
  samples: number,
): GridSize {
  const viaTree = countTree(members, conds, values);
  if (viaTree !== undefined) return { size: viaTree, exact: true };

  let product = 1;
  for (const m of members) product *= values.get(m)!.length;
  if (product === 0) return { size: 0, exact: true };
  const fs = conds.map((c) => compileExpr(c.expr));
  const lists = members.map((m) => values.get(m)!);
  const current = new Map<string, ParamValue>();
  const lookup = (n: string): ParamValue | undefined => current.get(n);
  const ok = (): boolean => fs.every((f) => f(lookup) === true);

  if (product <= limit) {
    // Odometer enumeration over the component only.
    const idx = new Array<number>(members.length).fill(0);
    members.forEach((m, i) => current.set(m, lists[i]![0]!));
    let count = 0;
    for (;;) {
      if (ok()) count++;
      let k = members.length - 1;
      while (k >= 0) {
        idx[k]!++;
        if (idx[k]! < lists[k]!.length) {
          current.set(members[k]!, lists[k]![idx[k]!]!);
          break;
        }
        idx[k] = 0;
        current.set(members[k]!, lists[k]![0]!);
        k--;
      }
      if (k < 0) break;
    }
    return { size: count, exact: true };
  }

  const rand = rng(0x5eed);
  let hits = 0;
  for (let s = 0; s < samples; s++) {
    members.forEach((m, i) => current.set(m, lists[i]![Math.floor(rand() * lists[i]!.length)]!));
    if (ok()) hits++;
  }
  return { size: Math.round((product * hits) / samples), exact: false };
}

/**
 * Exact count for a component whose conjuncts are all pairwise comparisons of numeric
 * parameters forming a tree; `undefined` when it does not have that shape.
 */
function countTree(members: string[], conds: { expr: Expr; names: string[] }[], values: Map<string, readonly ParamValue[]>): number | undefined {
  const rels: { a: string; op: Rel; b: string }[] = [];
  for (const c of conds) {
    const r = pairwise(c.expr);
    if (!r) return undefined;
    rels.push(r);
  }
  for (const m of members) if (values.get(m)!.some((v) => typeof v !== 'number')) return undefined;
  // Edges between distinct pairs; several relations on one pair intersect.
  const edges = new Map<string, { a: string; b: string; ops: Rel[] }>();
  for (const r of rels) {
    const [x, y, op] = r.a < r.b ? [r.a, r.b, r.op] : [r.b, r.a, FLIP[r.op]];
    const key = `${x}\u0000${y}`;
    if (!edges.has(key)) edges.set(key, { a: x, b: y, ops: [] });
    edges.get(key)!.ops.push(op);
  }
  if (edges.size !== members.length - 1) return undefined; // a cycle: not a tree
  const adj = new Map<string, { other: string; ops: Rel[] }[]>(members.map((m) => [m, []]));
  for (const e of edges.values()) {
    adj.get(e.a)!.push({ other: e.b, ops: e.ops }); // ops read as `a OP b`
    adj.get(e.b)!.push({ other: e.a, ops: e.ops.map((o) => FLIP[o]) });
  }

  /** For each value of `node`, the number of feasible assignments of its subtree. */
  const solve = (node: string, from: string | undefined): { xs: Float64Array; counts: Float64Array } => {
    const xs = Float64Array.from(values.get(node)! as number[]).sort();
    const counts = new Float64Array(xs.length).fill(1);
    for (const { other, ops } of adj.get(node)!) {
      if (other === from) continue;
      const child = solve(other, node);
      const prefix = new Float64Array(child.xs.length + 1);
      for (let i = 0; i < child.xs.length; i++) prefix[i + 1] = prefix[i]! + child.counts[i]!;
      const sumRange = (lo: number, hi: number): number => (hi > lo ? prefix[hi]! - prefix[lo]! : 0);
      for (let i = 0; i < xs.length; i++) {
        const v = xs[i]!;
        // Child values w with `v OP w` for all ops: an index interval, minus equal values for `!=`.
        let lo = 0;
        let hi = child.xs.length;
        let notEqual = false;
        for (const op of ops) {
          switch (op) {
            case '<': // v < w
              lo = Math.max(lo, lowerBound(child.xs, v, true));
              break;
            case '<=':
              lo = Math.max(lo, lowerBound(child.xs, v, false));
              break;
            case '>': // v > w
              hi = Math.min(hi, lowerBound(child.xs, v, false));
              break;
            case '>=':
              hi = Math.min(hi, lowerBound(child.xs, v, true));
              break;
            case '==':
              lo = Math.max(lo, lowerBound(child.xs, v, false));
              hi = Math.min(hi, lowerBound(child.xs, v, true));
              break;
            case '!=':
              notEqual = true;
              break;
          }
        }
        let s = sumRange(lo, hi);
        if (notEqual) {
          const eLo = Math.max(lo, lowerBound(child.xs, v, false));
          const eHi = Math.min(hi, lowerBound(child.xs, v, true));
          s -= sumRange(eLo, eHi);
        }
        counts[i] = counts[i]! * s;
      }
    }
    return { xs, counts };
  };
  const root = solve(members[0]!, undefined);
  let total = 0;
  for (let i = 0; i < root.counts.length; i++) total += root.counts[i]!;
  return total;
}
