/** The stage summary: one row per stage with its search, progress, best and time. */
import { el, simpleTable, type Card } from '../dom';
import { fmtCount, fmtDuration, fmtParams, fmtScore } from '../format';
import type { PanelStore } from '../store';

export function renderStages(c: Card, store: PanelStore): void {
  const h = store.header;
  if (!h) return;
  const running = h.status === 'running' || h.status === 'starting';
  const rows = h.stages.map((s, i) => [
    `${i + 1}. ${s.name}`,
    s.method,
    `${fmtCount(s.done)} / ${s.size ? fmtCount(s.size) : '?'}`,
    s.best ? fmtScore(s.best.score) : '–',
    s.best ? fmtParams(s.best.params) : '',
    s.elapsedMs !== undefined ? fmtDuration(s.elapsedMs) : '',
    s.stoppedBy ? `stopped: ${s.stoppedBy}` : s.finished ? 'done' : s.done > 0 ? 'running' : 'waiting',
  ]);
  const t = simpleTable('stages', ['stage', 'search', 'trials', 'best score', 'best parameters', 'time', 'note'], rows, [false, false, true, true, false, true, false]);
  t.querySelectorAll('tbody tr').forEach((tr, i) => {
    if (h.stages[i]!.name === h.stage && running) tr.classList.add('current');
    tr.children[4]?.classList.add('params');
  });
  c.body.replaceChildren(t);
}

/** The run's log messages (the last 30). */
export function renderLog(c: Card, store: PanelStore): void {
  c.card.hidden = store.logs.length === 0;
  if (c.card.hidden) return;
  const ul = el('ul', 'log');
  for (const l of store.logs.slice(-30)) ul.append(el('li', `log-${l.level}`, l.message));
  c.body.replaceChildren(ul);
}
