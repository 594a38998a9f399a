/** What a bar loop hands back to `runBacktest`: the value curve, the end state and the records. */
import type { Fill, Rejection, Trade } from './types';

export interface LoopOutput {
  /** Portfolio value per tick (all ticks, warm-up included; a per-thread buffer unless equity was asked for). */
  values: Float64Array;
  /** Cash per tick, when equity was asked for. */
  cashes: Float64Array | undefined;
  ticks: number;
  /** Per tick: the calendar day (yyyymmdd) and, intraday, the time (seconds after midnight). */
  dates: Int32Array;
  times: Int32Array | undefined;
  finalCash: number;
  /** Per feed: end position size and price. */
  endSize: number[];
  endPrice: number[];
  /** Closed trades' pnl and pnlcomm, in order (first `closed` entries). */
  pnl: Float64Array;
  pnlcomm: Float64Array;
  closed: number;
  long: number;
  short: number;
  rejections: number;
  /** Ticks that ended with an open position. */
  inMarket: number;
  /** The first tick where `next` ran, or -1. */
  firstNext: number;
  trades: Trade[];
  fills: Fill[];
  rejected: Rejection[];
  warnings: string[];
}

/** An output with every field (one shape) and empty record lists, for a loop to fill in. */
export function newLoopOutput(): LoopOutput {
  return {
    values: new Float64Array(0),
    cashes: undefined,
    ticks: 0,
    dates: new Int32Array(0),
    times: undefined,
    finalCash: 0,
    endSize: [0],
    endPrice: [0],
    pnl: new Float64Array(0),
    pnlcomm: new Float64Array(0),
    closed: 0,
    long: 0,
    short: 0,
    rejections: 0,
    inMarket: 0,
    firstNext: -1,
    trades: [],
    fills: [],
    rejected: [],
    warnings: [],
  };
}
