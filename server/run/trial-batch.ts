/**
 * Finished trials as the run hands them on — to its journal and to its listener — a batch at a
 * time. A batch from the pool wraps the workers' OutcomeBlock: its journal lines are the
 * workers' own (or, from an executor that writes bodies only, their JSON behind a head the run
 * writes: `{"type":"trial","stage":…,"number":…,`, one buffer copy), and an event object is made
 * only for a listener that asks (`event(i)`).
 * Other trials (memoized, resumed, from executors that return metrics) come as events.
 */
import type { Score, TrialEvent, TrialState } from '../../protocol/run-events';
import { STATE_NAME, trialHead, type OutcomeBlock } from '../executor/outcome-block';

export interface TrialBatch {
  readonly count: number;
  readonly stage: string;
  number(i: number): number;
  state(i: number): TrialState;
  /** The trial's losses (minimized: a maximized objective's score negated), or null when it has no score. */
  loss(i: number, directions: readonly ('maximize' | 'minimize')[]): number[] | null;
  /** The first objective's loss, NaN when none (the one-objective fast path). */
  loss0(i: number, maximize: boolean): number;
  /** The journal lines of these trials, each ending in a newline, UTF-8. */
  readonly bytes: Buffer;
  /** The `trial` event of row `i` (as the journal line reads). */
  event(i: number): TrialEvent;
}

const utf8 = new TextDecoder();

/** A batch over a block from the workers. */
export class BlockBatch implements TrialBatch {
  readonly count: number;
  readonly bytes: Buffer;
  /** Where each row's line starts in `bytes` (and the end, at `count`). */
  private readonly starts: Uint32Array;

  constructor(
    readonly stage: string,
    /** `{"type":"trial","stage":<stage>,"number":` in UTF-8 (one per stage): the head of rows that are bodies. */
    head: Buffer,
    private readonly block: OutcomeBlock,
  ) {
    const n = (this.count = block.numbers.length);
    if (block.lines) {
      // Whole journal lines from the worker: used as they came.
      this.bytes = Buffer.from(block.json.buffer, block.json.byteOffset, block.json.length);
      this.starts = new Uint32Array(n + 1);
      this.starts.set(block.ends.subarray(0, n), 1);
      return;
    }
    const bytes = Buffer.allocUnsafe(block.json.length + n * (head.length + 18));
    const json = Buffer.from(block.json.buffer, block.json.byteOffset, block.json.length);
    const starts = new Uint32Array(n + 1);
    let off = 0;
    let from = 0;
    for (let i = 0; i < n; i++) {
      starts[i] = off;
      off += head.copy(bytes, off);
      off += bytes.write(String(block.numbers[i]!) + ',', off, 'latin1');
      const to = block.ends[i]!;
      off += json.copy(bytes, off, from, to);
      from = to;
      bytes[off++] = 0x0a;
    }
    starts[n] = off;
    this.bytes = bytes.subarray(0, off);
    this.starts = starts;
  }

  number(i: number): number {
    return this.block.numbers[i]!;
  }

  state(i: number): TrialState {
    return STATE_NAME[this.block.states[i]!]!;
  }

  loss(i: number, directions: readonly ('maximize' | 'minimize')[]): number[] | null {
    const b = this.block;
    if (b.states[i] !== 0 || b.objectives === 0) return null;
    const out: number[] = [];
    for (let j = 0; j < b.objectives; j++) {
      const s = b.scores[i * b.objectives + j]!;
      out.push(directions[j] === 'maximize' ? -s : s);
    }
    return out;
  }

  loss0(i: number, maximize: boolean): number {
    const b = this.block;
    if (b.states[i] !== 0 || b.objectives === 0) return NaN;
    const s = b.scores[i * b.objectives]!;
    return maximize ? -s : s;
  }

  event(i: number): TrialEvent {
    return JSON.parse(utf8.decode(this.bytes.subarray(this.starts[i]!, this.starts[i + 1]! - 1))) as TrialEvent;
  }
}

/** A batch of trials that are events already. */
export class EventBatch implements TrialBatch {
  readonly count: number;
  private text: Buffer | null = null;

  constructor(
    readonly stage: string,
    private readonly events: TrialEvent[],
  ) {
    this.count = events.length;
  }

  get bytes(): Buffer {
    return (this.text ??= Buffer.from(this.events.map((e) => JSON.stringify(e) + '\n').join(''), 'utf8'));
  }

  number(i: number): number {
    return this.events[i]!.number;
  }

  state(i: number): TrialState {
    return this.events[i]!.state;
  }

  loss(i: number, directions: readonly ('maximize' | 'minimize')[]): number[] | null {
    const e = this.events[i]!;
    if (e.state !== 'complete' || e.score === null) return null;
    const s: number[] = Array.isArray(e.score) ? e.score : [e.score];
    return s.map((v, j) => (directions[j] === 'maximize' ? -v : v));
  }

  loss0(i: number, maximize: boolean): number {
    const e = this.events[i]!;
    if (e.state !== 'complete' || e.score === null) return NaN;
    const s = Array.isArray(e.score) ? e.score[0]! : e.score;
    return maximize ? -s : s;
  }

  event(i: number): TrialEvent {
    return this.events[i]!;
  }
}

/** The head every journal line of a stage's trials starts with. */
export function stageHead(stage: string): Buffer {
  return Buffer.from(trialHead(stage), 'utf8');
}

export type { Score };
