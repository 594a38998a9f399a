/**
 * A chunk's finished trials as they come back from a worker: scored there (scoring.ts) and
 * already encoded as the journal's JSON — told the trials' stage, the worker writes whole
 * journal lines (`lines`), which the run's main thread hands to the journal and the `--json`
 * stream as they are (no per-trial work, no copy); otherwise it prefixes each row with its
 * stage and number (trial-batch.ts). Numbers,
 * states and scores travel beside the text as typed arrays for the run's bookkeeping (best,
 * counts, the samplers). A block is plain typed arrays: it crosses threads and processes by
 * structured clone (or `v8.serialize`) as one copy, not ~60 properties per trial.
 */
import type { Metrics, ParamValues, TrialState, TrialSymbol } from '../../protocol/run-events';
import { symbolKey } from '../data/basket';
import type { TrialOutcome } from './executor';
import type { Scored } from './scoring';
import { JsonBytes } from './json-bytes';

export const STATE_CODE: Record<TrialState, number> = { complete: 0, infeasible: 1, failed: 2 };
export const STATE_NAME: readonly TrialState[] = ['complete', 'infeasible', 'failed'];

export interface OutcomeBlock {
  numbers: Float64Array;
  states: Uint8Array;
  /** Scores per trial (`objectives` each, NaN where a trial has none). */
  objectives: number;
  scores: Float64Array;
  /** How many times each trial ran (1 + retries used); set by the executor. */
  attempts: Uint8Array;
  /**
   * Each trial's `trial` event as JSON, UTF-8, without its head: `"params":{…},"durationMs":…,
   * "metrics":{…},"score":…,"state":…[,"error":…][,"log":…]}` (the run writes
   * `{"type":"trial","stage":…,"number":…,` before it). Rows end at `ends`.
   */
  json: Uint8Array;
  ends: Uint32Array;
  /**
   * Set when each row is a whole journal line: `{"type":"trial","stage":…,"number":N,` (the
   * row's `trialHead`), the body, a newline. Absent: rows are bodies (the form above).
   */
  lines?: boolean;
}

/** The head of a stage's journal lines, before a trial's number: `{"type":"trial","stage":<stage>,"number":`. */
export function trialHead(stage: string): string {
  return `{"type":"trial","stage":${JSON.stringify(stage)},"number":`;
}

export function isBlock(o: TrialOutcome | OutcomeBlock): o is OutcomeBlock {
  return (o as OutcomeBlock).ends !== undefined;
}

/** A trial's state from its metrics (null: failed) and its score (null: not scored). */
function trialState(metrics: Metrics | null, s: Scored | null): TrialState {
  return metrics === null ? 'failed' : s ? s.state : 'complete';
}

/** What a trial row says went wrong, if anything. */
function trialError(metrics: Metrics | null, s: Scored | null, error?: string): string | undefined {
  return metrics === null ? (error ?? 'the trial failed') : s?.error;
}

/** The part of a `trial` event a worker knows, in the event's key order. */
export function trialBody(params: ParamValues, durationMs: number, metrics: Metrics | null, s: Scored | null, error?: string, log?: string, symbols?: TrialSymbol[]): object {
  const body: { params: ParamValues; durationMs: number; metrics: Metrics; score: Scored['score']; state: TrialState; symbols?: TrialSymbol[]; error?: string; log?: string } = {
    params,
    durationMs: roundMs(durationMs),
    metrics: metrics ?? {},
    score: s ? s.score : null,
    state: trialState(metrics, s),
  };
  // A basket trial: each symbol's own metrics (`metrics` are then the summed account's).
  if (symbols && metrics !== null) body.symbols = symbols;
  const why = trialError(metrics, s, error);
  if (why !== undefined) body.error = why;
  if (log !== undefined) body.log = log;
  return body;
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * `JSON.stringify(trialBody(…))` without its leading '{', written into `w` without building
 * the string (json-bytes.ts says why); test/run/json-bytes.test.ts holds the two equal.
 */
function writeBody(w: JsonBytes, params: ParamValues, durationMs: number, metrics: Metrics | null, s: Scored | null, error?: string, log?: string, symbols?: TrialSymbol[]): void {
  w.ascii('"params":');
  w.record(params);
  w.ascii(',"durationMs":');
  w.number(roundMs(durationMs));
  w.ascii(',"metrics":');
  w.record(metrics ?? {});
  w.ascii(',"score":');
  w.value(s ? s.score : null);
  w.ascii(STATE_JSON[trialState(metrics, s)]);
  if (symbols && metrics !== null) optional(w, ',"symbols":', symbols);
  optional(w, ',"error":', trialError(metrics, s, error));
  optional(w, ',"log":', log);
  w.byte(125); // '}'
}

const STATE_JSON: Record<TrialState, string> = { complete: ',"state":"complete"', infeasible: ',"state":"infeasible"', failed: ',"state":"failed"' };

/** An optional key: left out when its value is undefined (as JSON.stringify does). */
function optional(w: JsonBytes, key: string, v: unknown): void {
  if (v === undefined) return;
  w.ascii(key);
  w.text(JSON.stringify(v));
}

/** Builds a block row by row (in a worker, or on the main thread for trials a worker could not report). */
export class BlockBuilder {
  private readonly numbers: Float64Array;
  private readonly states: Uint8Array;
  private readonly scores: Float64Array;
  private readonly ends: Uint32Array;
  private readonly w = new JsonBytes();
  /** The stage's `trialHead` as UTF-8: rows are whole journal lines (OutcomeBlock.lines). */
  private readonly head: Buffer | undefined;
  private rows = 0;

  constructor(
    capacity: number,
    private readonly objectives: number,
    head?: string,
  ) {
    this.numbers = new Float64Array(capacity);
    this.states = new Uint8Array(capacity);
    this.scores = new Float64Array(capacity * objectives).fill(NaN);
    this.ends = new Uint32Array(capacity);
    this.head = head !== undefined ? Buffer.from(head) : undefined;
  }

  get count(): number {
    return this.rows;
  }

  /** Adds a trial: `metrics` null for a failed one (with `error`), `s` its score (null: not scored). */
  add(number: number, params: ParamValues, durationMs: number, metrics: Metrics | null, s: Scored | null, error?: string, log?: string, symbols?: TrialSymbol[]): void {
    const r = this.rows++;
    this.numbers[r] = number;
    this.states[r] = STATE_CODE[trialState(metrics, s)];
    if (s?.score !== null && s?.score !== undefined) {
      const sc = s.score;
      if (typeof sc === 'number') this.scores[r * this.objectives] = sc;
      else for (let j = 0; j < sc.length && j < this.objectives; j++) this.scores[r * this.objectives + j] = sc[j]!;
    }
    // The body without its leading '{': the event's head goes before it (here, or by the run).
    const w = this.w;
    if (this.head !== undefined) {
      w.bytes(this.head);
      w.number(number);
      w.byte(44); // ','
    }
    writeBody(w, params, durationMs, metrics, s, error, log, symbols);
    if (this.head !== undefined) w.byte(10); // '\n'
    this.ends[r] = w.used;
  }

  /** The block (copies sized to the rows added). */
  finish(): OutcomeBlock {
    const n = this.rows;
    return {
      numbers: this.numbers.slice(0, n),
      states: this.states.slice(0, n),
      objectives: this.objectives,
      scores: this.scores.slice(0, n * this.objectives),
      attempts: new Uint8Array(n).fill(1),
      json: Uint8Array.prototype.slice.call(this.w.buf, 0, this.w.used),
      ends: this.ends.slice(0, n),
      ...(this.head !== undefined ? { lines: true } : {}),
    };
  }
}

/** A block's row `i` as bytes: its JSON body (`"params":…}`), or its whole line (`lines`). */
export function rowJson(b: OutcomeBlock, i: number): Uint8Array {
  return b.json.subarray(i === 0 ? 0 : b.ends[i - 1]!, b.ends[i]!);
}

/** The rows of `b` for which `keep(i)` holds, as a block of their own. */
export function selectRows(b: OutcomeBlock, keep: (i: number) => boolean): OutcomeBlock {
  const rows: number[] = [];
  for (let i = 0; i < b.numbers.length; i++) if (keep(i)) rows.push(i);
  if (rows.length === b.numbers.length) return b;
  const k = b.objectives;
  const parts = rows.map((i) => rowJson(b, i));
  const json = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  const ends = new Uint32Array(rows.length);
  let off = 0;
  parts.forEach((p, r) => {
    json.set(p, off);
    off += p.length;
    ends[r] = off;
  });
  return {
    numbers: Float64Array.from(rows, (i) => b.numbers[i]!),
    states: Uint8Array.from(rows, (i) => b.states[i]!),
    objectives: k,
    scores: Float64Array.from(rows.flatMap((i) => Array.from(b.scores.subarray(i * k, (i + 1) * k)))),
    attempts: Uint8Array.from(rows, (i) => b.attempts[i]!),
    json,
    ends,
    ...(b.lines ? { lines: true } : {}),
  };
}

const utf8 = new TextDecoder();

/** A block as one outcome per trial (metrics objects; the run scores them again): for callers that ship outcomes as JSON. */
export function blockToOutcomes(b: OutcomeBlock): TrialOutcome[] {
  const out: TrialOutcome[] = [];
  for (let i = 0; i < b.numbers.length; i++) {
    const row = utf8.decode(rowJson(b, i));
    const body = JSON.parse(b.lines ? row : '{' + row) as { metrics: Metrics; durationMs: number; state: TrialState; symbols?: TrialSymbol[]; error?: string; log?: string };
    // A basket's symbols go back into the metrics under their `<i>|<metric>` keys, as a backtest reports them.
    body.symbols?.forEach((sym, k) => {
      for (const [m, v] of Object.entries(sym.metrics)) body.metrics[symbolKey(k, m)] = v;
    });
    const o: TrialOutcome = { number: b.numbers[i]!, metrics: body.state === 'failed' ? null : body.metrics, durationMs: body.durationMs, attempts: b.attempts[i] };
    if (body.state === 'failed') o.error = body.error;
    if (body.log !== undefined) o.log = body.log;
    out.push(o);
  }
  return out;
}

/** One TrialOutcome per trial of an executor's result (blocks expanded), in order. */
export function outcomesOf(list: (TrialOutcome | OutcomeBlock)[]): TrialOutcome[] {
  return list.flatMap((o) => (isBlock(o) ? blockToOutcomes(o) : [o]));
}
