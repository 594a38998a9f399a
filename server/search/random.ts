/** `random`: uniform (log-uniform on log ranges) feasible draws, never the same point twice. */
import { Proposals, type Sampler, type SamplerContext, type Told } from './sampler';
import type { Params } from './space';

export class RandomSampler implements Sampler {
  readonly batch = 64;
  private readonly proposals: Proposals;

  constructor(ctx: SamplerContext) {
    this.proposals = new Proposals(ctx.space, ctx.rng);
  }

  ask(n: number): Params[] {
    const out: Params[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.proposals.randomUnseen();
      if (!p) break;
      out.push(p);
    }
    return out;
  }

  tell(_trials: Told[]): void {}
}
