/**
 * Parameter spaces: the searched dimensions of a stage, the values fixed around them, and the
 * `where` relations. Grids are enumerated lazily by index (mixed radix), so a grid of ten
 * million combinations costs constant memory; a seeded bijective permutation of the indexes
 * (a Feistel network with cycle walking) shuffles a grid without materializing it.
 */
import { hash32, type Rng } from './rng';

export type Value = number | string | boolean;
export type Params = Record<string, Value>;

/** One searched parameter. */
export interface Dim {
  name: string;
  /** The finite values in order; absent for a continuous domain. */
  values?: Value[];
  /** True when `values` are unordered labels (strings, booleans), false for ordered numbers. */
  categorical?: boolean;
  /** Continuous domain bounds (inclusive). */
  low?: number;
  high?: number;
  /** Continuous domain searched on a log scale. */
  log?: boolean;
  /** Continuous domain whose values are rounded to integers. */
  int?: boolean;
}

/** A searched space: dims, fixed values and a feasibility predicate over the full parameters. */
export class Space {
  readonly dims: Dim[];
  /** Number of grid combinations before `where` (Infinity with a continuous dim). */
  readonly size: number;
  readonly fixed: Params;
  private readonly where: ((full: Params) => boolean) | undefined;
  private readonly radix: number[];
  /** The fixed names when every one is also a searched dim (a point that has them is its own full set), else null. */
  private readonly shadowed: string[] | null;

  constructor(dims: Dim[], options: { fixed?: Params; where?: (full: Params) => boolean } = {}) {
    this.dims = dims.map(normalizeDim);
    this.fixed = options.fixed ?? {};
    this.where = options.where;
    this.radix = this.dims.map((d) => (d.values ? d.values.length : Infinity));
    this.size = this.radix.reduce((a, b) => a * b, 1);
    const fixedNames = Object.keys(this.fixed);
    this.shadowed = fixedNames.every((k) => this.dims.some((d) => d.name === k)) ? fixedNames : null;
  }

  get finite(): boolean {
    return Number.isFinite(this.size);
  }

  /** The combination at a grid index (the last dim varies fastest). */
  at(index: number): Params {
    const p: Params = {};
    let rest = index;
    for (let i = this.dims.length - 1; i >= 0; i--) {
      const d = this.dims[i]!;
      const n = this.radix[i]!;
      const k = rest % n;
      rest = (rest - k) / n;
      p[d.name] = d.values![k]!;
    }
    return p;
  }

  /** The searched values merged over the fixed ones. */
  full(p: Params): Params {
    return { ...this.fixed, ...p };
  }

  /** True when every `where` relation holds. */
  feasible(p: Params): boolean {
    if (!this.where) return true;
    // The relations read values by name: a point that overrides every fixed value needs no merged
    // copy (a grid asks this of every combination; the copy was most of a cold ask's cost).
    return this.where(this.overridesFixed(p) ? p : this.full(p));
  }

  private overridesFixed(p: Params): boolean {
    const names = this.shadowed;
    if (names === null) return false;
    for (let i = 0; i < names.length; i++) if (p[names[i]!] === undefined) return false;
    return true;
  }

  /** A canonical key of the searched values (dim order). */
  key(p: Params): string {
    return paramKey(p, this.dims);
  }

  /** Unit-cube coordinates: one per dim (a value's bin centre for finite dims). */
  encode(p: Params): number[] {
    return this.dims.map((d) => encodeValue(d, p[d.name]!));
  }

  /** The parameters at unit-cube coordinates (clamped, rounded to the nearest allowed value). */
  decode(u: ArrayLike<number>): Params {
    const p: Params = {};
    this.dims.forEach((d, i) => (p[d.name] = decodeValue(d, u[i]!)));
    return p;
  }

  /** A uniform draw (log-uniform on log dims), ignoring `where`. */
  uniform(rng: Rng): Params {
    const p: Params = {};
    for (const d of this.dims) p[d.name] = d.values ? d.values[rng.int(d.values.length)]! : decodeValue(d, rng.next());
    return p;
  }

  /** The number of feasible grid combinations (counts lazily; estimates above `limit`). */
  feasibleCount(limit = 2_000_000): { count: number; exact: boolean } {
    if (!this.finite) return { count: Infinity, exact: false };
    if (!this.where) return { count: this.size, exact: true };
    if (this.size <= limit) {
      let c = 0;
      for (let i = 0; i < this.size; i++) if (this.feasible(this.at(i))) c++;
      return { count: c, exact: true };
    }
    // Stratified sample of the index range: constant time and memory for huge grids.
    const n = 200_000;
    let c = 0;
    for (let j = 0; j < n; j++) if (this.feasible(this.at(Math.floor(((j + 0.5) * this.size) / n)))) c++;
    return { count: Math.round((c / n) * this.size), exact: false };
  }
}

/** Canonical key of parameter values in a given dim order. */
export function paramKey(p: Params, dims: { name: string }[]): string {
  let s = '';
  for (const d of dims) s += `${String(p[d.name])}\u0001`;
  return s;
}

/** Canonical key of a full parameter object (sorted names). */
export function fullKey(p: Params): string {
  return Object.keys(p)
    .sort()
    .map((k) => `${k}=${typeof p[k] === 'string' ? JSON.stringify(p[k]) : String(p[k])}`)
    .join(',');
}

function normalizeDim(d: Dim): Dim {
  if (d.values) {
    const categorical = d.categorical ?? d.values.some((v) => typeof v !== 'number');
    return { name: d.name, values: d.values.slice(), categorical };
  }
  const low = d.low ?? 0;
  const high = d.high ?? 1;
  if (d.int) {
    const lo = Math.ceil(low);
    const hi = Math.floor(high);
    if (!d.log && hi - lo <= 100_000) {
      const values: number[] = [];
      for (let v = lo; v <= hi; v++) values.push(v);
      return { name: d.name, values, categorical: false };
    }
    return { name: d.name, low: lo, high: hi, log: d.log, int: true };
  }
  return { name: d.name, low, high, log: d.log && low > 0 };
}

function encodeValue(d: Dim, v: Value): number {
  if (d.values) {
    let i = d.values.indexOf(v);
    if (i < 0 && typeof v === 'number') {
      // Nearest numeric value (e.g. a default not on the grid).
      let best = Infinity;
      d.values.forEach((x, j) => {
        const e = Math.abs((x as number) - v);
        if (e < best) (best = e), (i = j);
      });
    }
    return (Math.max(0, i) + 0.5) / d.values.length;
  }
  const x = typeof v === 'number' ? v : Number(v);
  const lo = d.low!;
  const hi = d.high!;
  if (hi <= lo) return 0.5;
  const u = d.log ? (Math.log(x) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (x - lo) / (hi - lo);
  return Math.min(1, Math.max(0, u));
}

function decodeValue(d: Dim, u: number): Value {
  const t = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0.5));
  if (d.values) return d.values[Math.min(d.values.length - 1, Math.floor(t * d.values.length))]!;
  const lo = d.low!;
  const hi = d.high!;
  let x = d.log ? Math.exp(Math.log(lo) + t * (Math.log(hi) - Math.log(lo))) : lo + t * (hi - lo);
  x = Math.min(hi, Math.max(lo, x));
  return d.int ? Math.round(x) : x;
}

/**
 * A seeded bijection of [0, n): a balanced Feistel network over the next even power of two,
 * cycle-walked back into range. Constant memory, O(1) expected per index.
 */
export class IndexPermutation {
  private readonly half: number;
  private readonly mask: number;
  private readonly keys: number[];

  constructor(readonly n: number, seed: number) {
    let bits = Math.max(2, Math.ceil(Math.log2(Math.max(2, n))));
    if (bits & 1) bits++;
    this.half = bits / 2;
    this.mask = 2 ** this.half - 1;
    this.keys = [0, 1, 2, 3].map((r) => hash32(seed >>> 0, r * 7919 + 17));
  }

  at(i: number): number {
    let x = i;
    do x = this.round(x);
    while (x >= this.n);
    return x;
  }

  private round(x: number): number {
    const m = 2 ** this.half;
    let l = Math.floor(x / m);
    let r = x % m;
    for (const k of this.keys) {
      const f = hash32(k, r) & this.mask;
      const nl = r;
      r = (l ^ f) & this.mask;
      l = nl;
    }
    return l * m + r;
  }
}
