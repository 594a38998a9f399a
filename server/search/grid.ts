/**
 * `grid`: every feasible combination, lazily by index; `shuffle` visits them in a seeded
 * permutation; `zoom N` runs every N-th value first, then the full-resolution values within
 * N steps of the best coarse point.
 */
import { Proposals, numOption, scalarLoss, type Sampler, type SamplerContext, type Told } from './sampler';
import { IndexPermutation, Space, type Dim, type Params } from './space';

export class GridSampler implements Sampler {
  readonly batch: number;
  private readonly proposals: Proposals;
  private readonly zoom: number;
  private readonly shuffle: boolean;
  private readonly seed: number;
  private phase: { space: Space; perm: IndexPermutation | null; next: number };
  private fineStarted = false;
  private best: { loss: number; params: Params } | null = null;

  constructor(private readonly ctx: SamplerContext) {
    const space = ctx.space;
    if (!space.finite) {
      const d = space.dims.find((x) => !x.values);
      throw new Error(`a grid needs finite domains: give '${d?.name}' a step (a .. b step s) or a list`);
    }
    this.batch = Math.max(1, numOption(ctx.options, 'batch', 256));
    this.proposals = new Proposals(space, ctx.rng);
    this.zoom = Math.max(1, Math.floor(numOption(ctx.options, 'zoom', 1)));
    this.shuffle = ctx.options.shuffle === true;
    this.seed = ctx.rng.u32();
    const first = this.zoom > 1 ? subSpace(space, space.dims.map((d) => coarse(d, this.zoom))) : space;
    this.phase = this.start(first);
  }

  private start(space: Space): { space: Space; perm: IndexPermutation | null; next: number } {
    return { space, perm: this.shuffle ? new IndexPermutation(space.size, this.seed) : null, next: 0 };
  }

  ask(n: number): Params[] {
    const out: Params[] = [];
    while (out.length < n) {
      const ph = this.phase;
      if (ph.next >= ph.space.size) {
        if (this.zoom > 1 && !this.fineStarted && this.best) {
          this.fineStarted = true;
          if (out.length > 0) break; // let the coarse batch be told before choosing the centre
          this.phase = this.start(subSpace(this.ctx.space, this.fineDims(this.best.params)));
          continue;
        }
        break;
      }
      const i = ph.next++;
      const p = ph.space.at(ph.perm ? ph.perm.at(i) : i);
      // A plain grid never repeats an index, so it keeps no set of proposals (constant memory
      // however large the grid); only zoom's phases can overlap and need one.
      if (this.zoom > 1 ? this.proposals.claim(p) : ph.space.feasible(p)) out.push(p);
    }
    return out;
  }

  tell(trials: Told[]): void {
    for (const t of trials) {
      const l = scalarLoss(t);
      if (Number.isFinite(l) && (!this.best || l < this.best.loss)) this.best = { loss: l, params: t.params };
    }
  }

  private fineDims(best: Params): Dim[] {
    return this.ctx.space.dims.map((d) => {
      const vals = d.values!;
      const i = vals.indexOf(best[d.name]!);
      if (d.categorical || i < 0) return { name: d.name, values: [best[d.name]!], categorical: d.categorical };
      return { name: d.name, values: vals.slice(Math.max(0, i - this.zoom), i + this.zoom + 1), categorical: false };
    });
  }
}

function coarse(d: Dim, step: number): Dim {
  if (d.categorical || !d.values) return d;
  const v = d.values.filter((_, i) => i % step === 0);
  if (v[v.length - 1] !== d.values[d.values.length - 1]) v.push(d.values[d.values.length - 1]!);
  return { ...d, values: v };
}

function subSpace(parent: Space, dims: Dim[]): Space {
  return new Space(dims, { fixed: parent.fixed, where: (full) => parent.feasible(full) });
}
