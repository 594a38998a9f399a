/**
 * The ask/tell interface every search method implements, and the shared context that keeps
 * parallel asks from proposing the same point twice and keeps proposals inside `where`.
 */
import { IndexPermutation, type Params, type Space } from './space';
import type { Rng } from './rng';

/** A finished trial as a sampler sees it: losses are minimized (maximized objectives negated). */
export interface Told {
  params: Params;
  /** One loss per objective; `null` for a failed or infeasible trial (worse than any loss). */
  loss: number[] | null;
}

/**
 * A search method. `ask(n)` proposes up to n new feasible points never proposed before in
 * this context (fewer, or none, once the space is exhausted or the method is done);
 * `tell` reports finished trials in trial-number order, so the proposals depend only on the
 * seed and on the results, never on which worker finished first.
 */
export interface Sampler {
  /** How many points the sampler asks for at a time (independent of the worker count). */
  readonly batch: number;
  ask(n: number): Params[];
  tell(trials: Told[]): void;
}

/** What a sampler is built with. */
export interface SamplerContext {
  space: Space;
  rng: Rng;
  /** Number of objectives (losses per told trial). */
  objectives: number;
  /** Trial budget of the stage (Infinity for a plain grid). */
  budget: number;
  /** Method options as written (`init`, `acquisition`, `population`, …). */
  options: Record<string, number | string | boolean>;
  /** Earlier trials (warm start, or a resumed stage's prefix) for model-based methods. */
  warm?: Told[];
}

/**
 * The set of points proposed so far in a stage. `claim` admits a point only when it is
 * feasible and new; `randomUnseen` finds a fresh point when a model keeps proposing old ones.
 */
export class Proposals {
  private readonly seen = new Set<string>();
  private walk: { perm: IndexPermutation; next: number } | null = null;

  constructor(
    readonly space: Space,
    private readonly rng: Rng,
  ) {}

  has(p: Params): boolean {
    return this.seen.has(this.space.key(p));
  }

  /** `has` for a key already computed with `space.key`. */
  hasKey(key: string): boolean {
    return this.seen.has(key);
  }

  get count(): number {
    return this.seen.size;
  }

  /** Marks a point as proposed (e.g. an earlier trial); no feasibility check. */
  mark(p: Params): void {
    this.seen.add(this.space.key(p));
  }

  /** Admits a feasible, not yet proposed point. */
  claim(p: Params): boolean {
    const k = this.space.key(p);
    if (this.seen.has(k) || !this.space.feasible(p)) return false;
    this.seen.add(k);
    return true;
  }

  /** A uniformly drawn feasible point never proposed before, or null when none is left. */
  randomUnseen(tries = 200): Params | null {
    for (let t = 0; t < tries; t++) {
      const p = this.space.uniform(this.rng);
      if (this.claim(p)) return p;
    }
    if (!this.space.finite) return null;
    // Rejection failed: walk a seeded permutation of the grid (each index visited once).
    if (!this.walk) this.walk = { perm: new IndexPermutation(this.space.size, this.rng.u32()), next: 0 };
    while (this.walk.next < this.space.size) {
      const p = this.space.at(this.walk.perm.at(this.walk.next++));
      if (this.claim(p)) return p;
    }
    return null;
  }
}

/** Scalar loss of a told trial for single-objective models (failed → +Infinity). */
export function scalarLoss(t: Told): number {
  return t.loss ? t.loss[0]! : Infinity;
}

/** Reads a numeric option with a default. */
export function numOption(o: Record<string, number | string | boolean>, key: string, dflt: number): number {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}
