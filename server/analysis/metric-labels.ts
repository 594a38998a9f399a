/**
 * Labels and units of metrics for the panel's column headers and axes (#19 item 12: raw
 * identifiers as headers, no units): from the language's metric catalogue, so a header says
 * "Max drawdown (%)" and the webview knows a money column from a ratio.
 */
import { findMetric } from '../../grammar';
import type { MetricLabel } from '../../protocol/analysis';

const WORDS: Record<string, string> = { pct: '', pnl: 'P&L', sqn: 'SQN', cagr: 'CAGR', avg: 'average', rf0: 'rf 0', ann: 'annualized' };
const UNIT_SUFFIX: Record<MetricLabel['unit'], string> = { percent: ' (%)', money: '', ratio: '', count: '', bars: ' (bars)', fraction: '' };

/** "max_drawdown_pct" → "Max drawdown (%)". */
export function metricLabel(name: string): MetricLabel {
  const info = findMetric(name);
  const unit = info?.unit ?? (name.endsWith('_pct') ? 'percent' : 'ratio');
  const words = name.split(/[_.]/).map((w) => WORDS[w] ?? w).filter(Boolean);
  const text = words.join(' ');
  return { label: text.charAt(0).toUpperCase() + text.slice(1) + UNIT_SUFFIX[unit], unit, better: info?.better ?? 'neither' };
}

/** Labels for every metric name given. */
export function metricLabels(names: Iterable<string>): Record<string, MetricLabel> {
  const out: Record<string, MetricLabel> = {};
  for (const n of names) out[n] = metricLabel(n);
  return out;
}
