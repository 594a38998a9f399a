/**
 * Terminal rendering of a run: a one-line progress bar (rate, ETA, best so far) and the
 * final ranking table. Pure string functions, so they are testable and reusable.
 */
import type { Metrics, ParamValues, ProgressEvent, Score, TrialSummary } from '../../protocol/run-events';

/** Formats a number compactly for tables. */
export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e5) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(3);
  return v.toPrecision(3);
}

export function fmtScore(s: Score | null): string {
  if (s === null) return '—';
  return Array.isArray(s) ? s.map(fmtNum).join(' / ') : fmtNum(s);
}

export function fmtDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function fmtParams(p: ParamValues, names?: string[]): string {
  return (names ?? Object.keys(p)).map((k) => `${k}=${typeof p[k] === 'number' ? fmtNum(p[k] as number) : String(p[k])}`).join(' ');
}

/** One progress line (no newline), fitted to `width` columns. */
export function progressLine(e: ProgressEvent, best: TrialSummary | null, searched: string[], width = 100): string {
  const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
  const rate = e.rate >= 100 ? e.rate.toFixed(0) : e.rate.toFixed(1);
  const core = `${String(Math.round(frac * 100)).padStart(3)}% ${e.done}/${e.total} · ${rate} trials/s · ETA ${fmtDuration(e.etaMs)}`;
  // A narrow terminal shortens the bar before it cuts the ETA (the stage and best come last).
  const barW = Math.max(0, Math.min(20, width - core.length - 1));
  const full = Math.round(frac * barW);
  const bar = barW ? `${'█'.repeat(full)}${'░'.repeat(barW - full)} ` : '';
  const head = `${bar}${core}`;
  let tail = ` · ${e.stage}`;
  if (best) tail += ` · best ${fmtScore(best.score)} (${fmtParams(best.params, searched.filter((k) => k in best.params))})`;
  if (head.length + tail.length <= width) return head + tail;
  const room = width - head.length - 1;
  return room > 3 ? `${head}${tail.slice(0, room)}…` : head;
}

const KEY_METRICS: [string, string[]][] = [
  ['trades', ['trades', 'trades_closed']],
  ['return%', ['total_return_pct']],
  ['maxDD%', ['max_drawdown_pct']],
  ['sharpe', ['sharpe', 'sharpe_days_ann_rf0']],
  ['PF', ['profit_factor']],
];

function metric(m: Metrics, keys: string[]): number | null | undefined {
  for (const k of keys) if (k in m) return m[k];
  return undefined;
}

/** The ranking table: rank, trial, the searched params, score and key metrics. */
export function rankingTable(rows: TrialSummary[], searched: string[]): string {
  if (rows.length === 0) return 'No feasible trial.\n';
  const header = ['#', 'trial', ...searched, 'score', ...KEY_METRICS.map(([h]) => h)];
  const body = rows.map((r, i) => [
    String(i + 1),
    r.number !== undefined ? String(r.number) : '',
    ...searched.map((k) => (r.params[k] === undefined ? '' : typeof r.params[k] === 'number' ? fmtNum(r.params[k] as number) : String(r.params[k]))),
    fmtScore(r.score),
    ...KEY_METRICS.map(([, keys]) => fmtNum(metric(r.metrics, keys))),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]): string => cells.map((x, c) => (c < 2 + searched.length && c >= 2 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

/** Keeps the best `k` trials by a loss (smaller first), ties by trial number. */
export class TopK {
  private rows: { loss: number; s: TrialSummary }[] = [];
  constructor(private readonly k = 10) {}
  /** Whether a trial with this loss would enter (before its summary is made). */
  accepts(loss: number): boolean {
    return this.rows.length < this.k || loss < this.rows[this.rows.length - 1]!.loss;
  }

  add(loss: number, s: TrialSummary): void {
    if (!this.accepts(loss)) return;
    this.rows.push({ loss, s });
    this.rows.sort((a, b) => a.loss - b.loss || (a.s.number ?? 0) - (b.s.number ?? 0));
    if (this.rows.length > this.k) this.rows.pop();
  }
  get items(): TrialSummary[] {
    return this.rows.map((r) => r.s);
  }
}
