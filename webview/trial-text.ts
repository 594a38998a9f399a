/** The lines a tooltip shows for a trial: number and stage, score, state and reason, parameters. */
import type { TrialRow } from '../protocol/messages';
import { fmtScore, fmtValue } from './format';
import { objectiveTitle } from './metric-info';
import type { PanelStore } from './store';

const MAX_PARAMS = 12;

export function trialLines(store: PanelStore, r: TrialRow, extra: string[] = []): string[] {
  const h = store.header;
  const stage = h && h.stages.length > 1 ? ` · ${h.stages[r.s]?.name ?? ''}` : '';
  const lines = [`Trial #${r.n}${stage}`];
  const nObj = h?.directions.length ?? 1;
  const title = nObj > 1 ? 'score' : objectiveTitle(h?.objectives[0]);
  if (r.sc !== null) lines.push(`${title}: ${fmtScore(r.sc)}`);
  else if (r.st === 'infeasible') {
    const u = store.unconstrainedScore(r);
    if (u !== null) lines.push(`${title} without the constraint: ${fmtScore(u)}`);
  }
  if (r.st !== 'complete') lines.push(`${r.st}${r.e ? `: ${r.e}` : ''}`);
  lines.push(...extra);
  const params = store.tables.params.map((p, i) => [p, r.p[i]] as const).filter(([, v]) => v !== null && v !== undefined);
  for (const [p, v] of params.slice(0, MAX_PARAMS)) lines.push(`${p} = ${fmtValue(v)}`);
  if (params.length > MAX_PARAMS) lines.push(`… ${params.length - MAX_PARAMS} more parameters`);
  return lines;
}
