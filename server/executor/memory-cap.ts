/**
 * The off-heap half of a worker's memory cap. `resourceLimits` caps a worker's JS heap, but a
 * strategy module's ArrayBuffers and Buffers live outside it: a module allocating gigabytes of
 * Buffers ran to the end. Inside the worker, the isolate's external memory (what V8 accounts
 * for ArrayBuffer backing stores, Buffers, wasm memories) is checked after a module's `setup`,
 * every 1,024 bars of its `next` and after its backtest; over the cap the trial fails with the
 * figures, and the worker is replaced (what the module holds may stay held).
 *
 * Built-in strategies are not guarded: they are ours, and a check costs microseconds.
 */
import { getHeapStatistics } from 'node:v8';
import type { StrategyDefinition } from '../engine';

/** A trial over the worker's off-heap cap. */
export class MemoryCapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryCapError';
  }
}

const MiB = 1024 * 1024;

/** Throws MemoryCapError when this thread's external memory is over `capMb`. */
export function checkOffHeap(capMb: number): void {
  const external = getHeapStatistics().external_memory;
  if (external > capMb * MiB)
    throw new MemoryCapError(
      `the strategy holds ${Math.round(external / MiB)} MiB of off-heap memory (ArrayBuffers, Buffers), over the worker's cap of ${capMb} MiB; its worker was replaced`,
    );
}

/** A module's definition whose `setup` and `next` check the off-heap cap as they run. */
export function guardOffHeap(def: StrategyDefinition, capMb: number): StrategyDefinition {
  return {
    ...def,
    setup(ctx, params) {
      const next = def.setup(ctx, params);
      checkOffHeap(capMb);
      let calls = 0;
      return (c) => {
        if ((++calls & 1023) === 0) checkOffHeap(capMb);
        next(c);
      };
    },
  };
}
