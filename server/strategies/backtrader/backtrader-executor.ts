/**
 * `strategy NAME backtrader "file.py:NAME"`: trials run by real backtrader through the bridge
 * shipped with OptStudy (optstudy_bridge.py), one Python process per worker, started in the
 * study's folder. The bridge answers on its own channel (fd 3), so whatever the strategy prints
 * is its log. Each answer carries the run's record (per-bar value, closed trades' P&L, …) and
 * the user's analyzers flattened; the standard metrics are computed here from the record by
 * the engine's own metric code, so every strategy kind gets them the same way.
 */
import type { Metrics, ParamValues } from '../../../protocol/run-events';
import { computeMetrics, type RunRecord } from '../../engine/metrics';
import { formatStamp } from '../../data/datetime';
import type { ExecutorSettings, TaskPayload } from '../../executor/executor';
import { ExternalProcess, type ExternalAnswer } from '../external-process';
import { ProcessExecutor } from '../process-executor';
import { bridgeLaunch } from './prestart';
import { addIdle, openUser, takeIdle } from './bridge-pool';

/** The request body of one trial (the DESIGN's protocol fields plus `datas` and `slippage`). */
export function bridgeRequest(payload: TaskPayload, params: ParamValues, window?: { from: string; to: string }): Record<string, unknown> {
  const config = payload.config as TaskPayload['config'] & { slippage?: unknown };
  const datas = payload.datas ?? [payload.data];
  return {
    params,
    from: window?.from ?? payload.data.from ?? null,
    to: window?.to ?? payload.data.to ?? null,
    data: payload.data.file,
    datas: datas.map((d) => ({ file: d.file })),
    cash: config.cash,
    commission: config.commission,
    slippage: config.slippage ?? null,
    sizing: config.sizing,
  };
}

/** What the bridge sends per run (see optstudy_bridge.py `record_of`). */
interface BridgeRecord {
  cash0: number | string;
  finalCash: number | string;
  values: (number | string)[];
  dates: number[];
  times?: number[];
  pnl: (number | string)[];
  pnlcomm: (number | string)[];
  rejected: number;
  inMarket: number;
  intraday: boolean;
  annual: number;
  long: number;
  short: number;
  openTrades: number;
  endSize: number | string;
  endPrice: number | string;
}

/** A number as the bridge encodes it ("nan", "inf", "-inf" for the non-finite ones). */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  return v === 'inf' ? Infinity : v === '-inf' ? -Infinity : NaN;
}

/** The engine's RunRecord of one bridge run. @throws Error when the record is malformed */
export function runRecordOf(raw: unknown): RunRecord {
  const r = raw as BridgeRecord;
  if (!r || !Array.isArray(r.values) || !Array.isArray(r.dates) || r.values.length !== r.dates.length || r.values.length === 0)
    throw new Error('the bridge sent no per-bar record');
  const pnl = Float64Array.from(r.pnl ?? [], num);
  return {
    values: Float64Array.from(r.values, num),
    dates: Int32Array.from(r.dates),
    intraday: r.intraday === true,
    annual: typeof r.annual === 'number' ? r.annual : 252.0,
    bars: r.values.length,
    cash0: num(r.cash0),
    finalCash: num(r.finalCash),
    endPositionSize: num(r.endSize),
    endPositionPrice: num(r.endPrice),
    pnl,
    pnlcomm: Float64Array.from(r.pnlcomm ?? [], num),
    closed: pnl.length,
    long: r.long | 0,
    short: r.short | 0,
    rejected: r.rejected | 0,
    barsInMarket: r.inMarket | 0,
    openTrades: r.openTrades | 0,
  };
}

/** The standard metrics of a bridge answer, then every user analyzer value (`NAME.key…`). */
export function bridgeMetrics(answer: Extract<ExternalAnswer, { metrics: unknown }>): Metrics {
  const standard = computeMetrics(runRecordOf(answer.body.record));
  const out: Metrics = {};
  for (const [k, v] of Object.entries(standard)) out[k] = v !== null && Number.isFinite(v) ? v : null;
  for (const [k, v] of Object.entries(answer.metrics)) if (!(k in out)) out[k] = v;
  return out;
}

/** A closed round trip as the bridge reports it (`optstudy backtest`, a trial's detail). */
export interface BridgeTrade {
  entry_date: string;
  exit_date: string;
  entry_price: number;
  exit_price: number;
  size: number;
  pnl: number;
  pnlcomm: number;
  direction: 'long' | 'short';
}

/**
 * One backtest on a bridge process of its own (started and stopped here): the metrics, the
 * value per bar with its dates, and the closed round trips. @throws Error when it fails
 */
export async function runBacktraderOnce(
  payload: TaskPayload,
  params: ParamValues,
  window?: { from: string; to: string },
  timeoutMs?: number,
): Promise<{ metrics: Metrics; equity: { dates: string[]; values: number[] }; trades: BridgeTrade[] }> {
  const ref = payload.strategy;
  if (ref.kind !== 'backtrader') throw new Error(`not a backtrader strategy: '${ref.kind}'`);
  const proc = new ExternalProcess(bridgeLaunch(ref.spec, ref.cwd));
  try {
    const answer = await proc.request({ ...bridgeRequest(payload, params, window), trades: true }, timeoutMs);
    if (!('metrics' in answer)) throw new Error(answer.error + (answer.log ? `\n${answer.log.trimEnd()}` : ''));
    const record = runRecordOf(answer.body.record);
    const trades = Array.isArray(answer.body.trades) ? (answer.body.trades as BridgeTrade[]) : [];
    // Bar stamps as the rest of OptStudy prints them: `YYYY-MM-DD`, intraday `…THH:MM:SS`.
    const times = (answer.body.record as BridgeRecord).times;
    const dates = Array.from(record.dates, (d, i) => formatStamp(d, times?.[i]));
    return { metrics: bridgeMetrics(answer), equity: { dates, values: Array.from(record.values) }, trades };
  } finally {
    await proc.close();
  }
}

/**
 * Trials on bridge processes from the pool (bridge-pool.ts): the ones the run's checks started,
 * or ones an earlier step of the run gave back (a walk-forward fold's, the run's own for its
 * out-of-sample re-runs); at close its live processes go back to the pool for the run's next step.
 */
export class BacktraderExecutor extends ProcessExecutor {
  constructor(payload: TaskPayload, settings: ExecutorSettings) {
    const ref = payload.strategy;
    if (ref.kind !== 'backtrader') throw new Error(`BacktraderExecutor needs a backtrader strategy, not '${ref.kind}'`);
    const { spec, cwd } = ref;
    const close = openUser(spec, cwd);
    super(
      bridgeLaunch(spec, cwd),
      { request: (t, window) => bridgeRequest(payload, t.params, window), metrics: bridgeMetrics, equity: (a) => runRecordOf(a.body.record).values },
      settings,
      {
        take: (count) => takeIdle(spec, cwd, count),
        give: async (procs) => {
          addIdle(spec, cwd, procs.filter((p) => p.idle));
          await Promise.all(procs.filter((p) => !p.idle).map((p) => p.close()));
        },
        close,
      },
    );
  }
}
