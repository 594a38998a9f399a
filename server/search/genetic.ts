/**
 * `genetic`: NSGA-II (Deb et al. 2002) — binary tournaments on (front, crowding distance),
 * simulated binary crossover and polynomial mutation in the unit cube, and elitist survival
 * of the best `population` of parents and children by non-dominated sorting. With one
 * objective the fronts are simply the ranks of the loss. Failed and infeasible trials rank
 * after every feasible one.
 */
import { crowdingDistance, nonDominatedSort } from './pareto';
import { Proposals, numOption, type Sampler, type SamplerContext, type Told } from './sampler';
import type { Params, Space } from './space';

interface Ind {
  u: number[];
  loss: number[] | null;
  rank: number;
  crowd: number;
}

export class GeneticSampler implements Sampler {
  readonly batch: number;
  private readonly space: Space;
  private readonly proposals: Proposals;
  private readonly pMut: number;
  private readonly pCross: number;
  private pop: Ind[] = [];
  private children: Ind[] = [];

  constructor(private readonly ctx: SamplerContext) {
    this.space = ctx.space;
    this.batch = Math.max(2, Math.floor(numOption(ctx.options, 'population', 20)));
    this.proposals = new Proposals(ctx.space, ctx.rng);
    this.pMut = numOption(ctx.options, 'mutation', Math.max(0.1, 1 / Math.max(1, ctx.space.dims.length)));
    this.pCross = numOption(ctx.options, 'crossover', 0.9);
    const warm = (ctx.warm ?? []).map((t) => ({ u: this.space.encode(t.params), loss: t.loss, rank: 0, crowd: 0 }));
    if (warm.length) this.pop = this.survive(warm);
  }

  ask(n: number): Params[] {
    const out: Params[] = [];
    const rng = this.ctx.rng;
    for (let k = 0; k < n; k++) {
      let p: Params | null = null;
      if (this.pop.length >= 2) {
        for (let t = 0; t < 30 && !p; t++) {
          const a = this.tournament();
          const b = this.tournament();
          const child = this.crossover(a.u, b.u);
          this.mutate(child, t >= 10 ? 2 : 1);
          const cand = this.space.decode(child);
          if (this.proposals.claim(cand)) p = cand;
        }
      }
      if (!p) p = this.proposals.randomUnseen();
      if (!p) break;
      out.push(p);
      void rng;
    }
    return out;
  }

  tell(trials: Told[]): void {
    for (const t of trials) {
      this.proposals.mark(t.params);
      this.children.push({ u: this.space.encode(t.params), loss: t.loss, rank: 0, crowd: 0 });
    }
    if (this.children.length >= this.batch) {
      this.pop = this.survive(this.pop.concat(this.children));
      this.children = [];
    }
  }

  private survive(all: Ind[]): Ind[] {
    const ok = all.filter((i) => i.loss);
    const bad = all.filter((i) => !i.loss);
    const fronts = nonDominatedSort(ok.map((i) => i.loss!));
    const next: Ind[] = [];
    fronts.forEach((f, r) => {
      const cd = crowdingDistance(
        ok.map((i) => i.loss!),
        f,
      );
      const members = f.map((i) => ({ ...ok[i]!, rank: r, crowd: cd.get(i)! }));
      if (next.length + members.length <= this.batch) next.push(...members);
      else if (next.length < this.batch) {
        members.sort((a, b) => b.crowd - a.crowd);
        next.push(...members.slice(0, this.batch - next.length));
      }
    });
    for (const b of bad) if (next.length < this.batch) next.push({ ...b, rank: fronts.length, crowd: 0 });
    return next;
  }

  private tournament(): Ind {
    const rng = this.ctx.rng;
    const a = this.pop[rng.int(this.pop.length)]!;
    const b = this.pop[rng.int(this.pop.length)]!;
    if (a.rank !== b.rank) return a.rank < b.rank ? a : b;
    return a.crowd >= b.crowd ? a : b;
  }

  /** Simulated binary crossover (η = 15), gene by gene. */
  private crossover(a: number[], b: number[]): number[] {
    const rng = this.ctx.rng;
    const child = a.slice();
    if (rng.next() > this.pCross) return child;
    const eta = 15;
    for (let i = 0; i < a.length; i++) {
      if (this.space.dims[i]!.categorical) {
        child[i] = rng.next() < 0.5 ? a[i]! : b[i]!;
        continue;
      }
      if (rng.next() > 0.5) continue;
      const u = rng.next();
      const beta = u <= 0.5 ? (2 * u) ** (1 / (eta + 1)) : (1 / (2 * (1 - u))) ** (1 / (eta + 1));
      const c = 0.5 * ((1 + beta) * a[i]! + (1 - beta) * b[i]!);
      const c2 = 0.5 * ((1 - beta) * a[i]! + (1 + beta) * b[i]!);
      child[i] = Math.min(1, Math.max(0, rng.next() < 0.5 ? c : c2));
    }
    return child;
  }

  /** Polynomial mutation (η = 20); categorical genes are redrawn. */
  private mutate(x: number[], boost: number): void {
    const rng = this.ctx.rng;
    const eta = 20;
    for (let i = 0; i < x.length; i++) {
      if (rng.next() >= Math.min(1, this.pMut * boost)) continue;
      if (this.space.dims[i]!.categorical) {
        x[i] = rng.next();
        continue;
      }
      const u = rng.next();
      const d = u < 0.5 ? (2 * u) ** (1 / (eta + 1)) - 1 : 1 - (2 * (1 - u)) ** (1 / (eta + 1));
      x[i] = Math.min(1, Math.max(0, x[i]! + d * boost));
    }
  }
}
