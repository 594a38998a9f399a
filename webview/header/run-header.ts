/**
 * The run header: study, status and phase, the actions (cancel, resume, apply best / most
 * robust, compare, export), progress, facts, the out-of-sample headline of a validated run and
 * the overfitting verdict. While a run validates (walk-forward folds, holdout) its phase is
 * named as such rather than as a stage of the study (#19 defect 11: "stage 0/1").
 */
import type { RunHeader } from '../../protocol/messages';
import type { RunValidation } from '../../protocol/run-events';
import { el } from '../dom';
import { fmt, fmtCount, fmtDuration, fmtParams, fmtScore, fmtSignedPct } from '../format';
import type { PanelStore } from '../store';
import { badge, button, setDisabled, spinner } from '../ui';
import { post } from '../vscode-api';
import { mostRobust, verdict } from './verdict';

export class RunHeaderView {
  readonly root = el('header', 'run-header');
  private readonly studyTitle = el('h1', undefined, 'OptStudy');
  private readonly statusSlot = el('span', 'status-slot');
  private readonly phase = el('span', 'stage-label');
  private readonly progressRow = el('div', 'progress-row');
  private readonly bar = el('div', 'bar');
  private readonly fill = el('div', 'fill');
  private readonly progressText = el('span', 'progress-text');
  private readonly facts = el('div', 'facts');
  private readonly oos = el('div', 'oos-line');
  private readonly verdictRow = el('div', 'verdict');
  private readonly cancelBtn = button('Cancel', { onClick: () => post({ type: 'cancel' }), title: 'Stop the run; finished trials are kept in its journal' });
  private readonly resumeBtn = button('Resume', { onClick: () => post({ type: 'resume' }), title: 'Continue this run from its journal' });
  private readonly applyBestBtn = button('Apply best', { onClick: () => this.applyBest(), title: 'Write the best trial\'s parameters into the study (undoable)' });
  private readonly applyRobustBtn = button('Apply most robust', { appearance: 'primary', onClick: () => this.applyRobust(), title: '' });
  private readonly compareBtn = button('Compare…', { onClick: () => post({ type: 'pickCompareRun' }), title: 'Overlay another saved run: histories, importances and bests' });
  private readonly exportBtn = button('Export…', { onClick: () => post({ type: 'exportReport' }), title: 'Save an HTML, CSV or JSON report of this run' });
  private readonly runsBtn = button('Runs…', { onClick: () => post({ type: 'listRuns' }), title: 'Open another saved run' });

  constructor(private readonly store: PanelStore) {
    const titleRow = el('div', 'title-row');
    const actions = el('div', 'actions');
    actions.append(this.cancelBtn, this.resumeBtn, this.applyBestBtn, this.applyRobustBtn, this.compareBtn, this.exportBtn, this.runsBtn);
    titleRow.append(this.studyTitle, this.statusSlot, this.phase, actions);
    this.bar.setAttribute('role', 'progressbar');
    this.bar.setAttribute('aria-valuemin', '0');
    this.bar.setAttribute('aria-valuemax', '100');
    this.bar.append(this.fill);
    this.progressRow.append(this.bar, this.progressText);
    this.root.append(titleRow, this.progressRow, this.facts, this.oos, this.verdictRow);
  }

  private applyBest(): void {
    const b = this.store.best;
    if (b) post({ type: 'applyParams', params: b.params, n: b.number, which: 'best' });
  }

  private applyRobust(): void {
    const r = mostRobust(this.store);
    if (r) post({ type: 'applyParams', params: r.params, n: r.number, which: 'robust' });
  }

  render(): void {
    const h = this.store.header;
    for (const e of [this.progressRow, this.facts]) e.hidden = !h;
    if (!h) {
      this.studyTitle.textContent = 'OptStudy results';
      this.statusSlot.replaceChildren();
      this.phase.textContent = '';
      for (const b of [this.cancelBtn, this.resumeBtn, this.exportBtn, this.applyBestBtn, this.applyRobustBtn, this.compareBtn]) b.hidden = true;
      this.oos.hidden = this.verdictRow.hidden = true;
      return;
    }
    const running = h.status === 'running' || h.status === 'starting';
    this.studyTitle.textContent = h.study || 'Study';
    this.studyTitle.title = h.file ?? '';
    const b = badge(h.status, h.error);
    b.classList.add(`status-${h.status}`);
    this.statusSlot.replaceChildren(b, ...(running ? [spinner()] : []));
    this.phase.textContent = phaseLabel(h, running);
    this.cancelBtn.hidden = !running;
    this.resumeBtn.hidden = !(h.status === 'cancelled' || h.status === 'failed') || !h.runDir;
    this.exportBtn.hidden = false;
    this.compareBtn.hidden = false;
    setDisabled(this.exportBtn, !h.runDir);
    const pct = h.total > 0 ? Math.min(100, (100 * h.done) / h.total) : 0;
    this.fill.style.width = `${pct}%`;
    this.fill.classList.toggle('done', !running);
    this.bar.setAttribute('aria-valuenow', pct.toFixed(0));
    this.progressText.textContent = `${fmtCount(h.done)} / ${h.total ? fmtCount(h.total) : '?'} trials (${pct.toFixed(0)} %)`;
    this.renderFacts(h, running);
    this.renderOos(this.store.validation);
    this.renderVerdict();
  }

  private renderFacts(h: RunHeader, running: boolean): void {
    const f: HTMLElement[] = [];
    if (running) {
      f.push(fact('rate', h.rate > 0 ? `${fmt(h.rate, 3)}/s` : '–'));
      f.push(fact('ETA', fmtDuration(h.etaMs)));
    }
    const elapsed = h.elapsedMs ?? (h.startedAt && running ? Date.now() - h.startedAt : undefined);
    if (elapsed !== undefined) f.push(fact('elapsed', fmtDuration(elapsed)));
    f.push(fact('complete', fmtCount(h.counts.complete)));
    if (h.counts.infeasible) f.push(fact('infeasible', fmtCount(h.counts.infeasible), 'Trials that broke a constraint'));
    if (h.counts.failed) f.push(fact('failed', fmtCount(h.counts.failed), 'Trials that threw, timed out or lost their worker'));
    const best = this.store.best;
    this.applyBestBtn.hidden = !best;
    if (best) {
      const objs = h.objectives.length ? h.objectives.join(' · ') : 'score';
      f.push(fact(this.store.validation ? 'best in sample' : 'best', fmtScore(best.score), `${objs} of trial #${best.number ?? '?'}: ${fmtParams(best.params)}`));
    }
    const robust = mostRobust(this.store);
    this.applyRobustBtn.hidden = !robust;
    if (robust) {
      this.applyRobustBtn.title = `Write the most robust finalist into the study: trial #${robust.number ?? '?'} (${fmtParams(robust.params)}), robust score ${fmt(robust.robust)} against the best's neighbourhood`;
      if (best && robust.number !== best.number) f.push(fact('most robust', `#${robust.number ?? '?'} · ${fmt(robust.robust)}`, `Robust score (neighbourhood mean − std) of ${fmtParams(robust.params)}`));
    }
    if (h.error) f.push(fact('error', h.error));
    this.facts.replaceChildren(...f);
  }

  /** A validated run headlines its out-of-sample result (the in-sample best alone can mislead). */
  private renderOos(v: RunValidation | undefined): void {
    this.oos.hidden = !v;
    if (!v) return;
    let text: string;
    let bad: boolean;
    if (v.kind === 'walkforward') {
      const w = v.report;
      bad = (w.stitchedReturnPct ?? 0) < 0 || (w.efficiency ?? 0) < 0;
      text = `Out of sample: ${fmtSignedPct(w.stitchedReturnPct)} over ${w.folds.length} walk-forward folds (stitched), efficiency ${fmt(w.efficiency, 2)}, ${w.profitableFolds}/${w.folds.length} folds profitable.`;
    } else {
      const top = v.report.rows[0];
      const ret = top?.outOfSample.metrics['total_return_pct'] ?? null;
      bad = (ret ?? 0) < 0 || (v.report.retention ?? 0) < 0;
      text = `Out of sample (last ${fmt(v.fraction * 100, 3)} %): the in-sample best returned ${fmtSignedPct(ret)}, score retention ${fmt(v.report.retention, 2)}.`;
    }
    this.oos.className = `oos-line ${bad ? 'bad' : 'ok'}`;
    this.oos.textContent = `${bad ? '⚠ ' : ''}${text}`;
  }

  private renderVerdict(): void {
    const v = verdict(this.store);
    this.verdictRow.hidden = v.items.length === 0;
    if (this.verdictRow.hidden) return;
    const head = el('span', `verdict-summary level-${v.level}`, v.summary);
    const headline = v.headline ? [el('span', 'verdict-headline', v.headline)] : [];
    const chips = v.items.map((i) => {
      const c = el('span', `chip level-${i.level}`, i.text);
      c.title = i.title;
      c.dataset['key'] = i.key;
      return c;
    });
    this.verdictRow.replaceChildren(head, ...headline, ...chips);
  }
}

function fact(label: string, value: string, title?: string): HTMLElement {
  const f = el('span', 'fact');
  f.append(el('span', 'fact-label', label), el('span', 'fact-value', value));
  if (title) f.title = title;
  return f;
}

/** `stage 2/3 · entry`, or the validation phase a run is in (its names are not the study's stages). */
export function phaseLabel(h: RunHeader, running: boolean): string {
  if (h.phase?.kind === 'validation') return running ? `validating · ${h.phase.label}` : '';
  if (!h.stage) return '';
  const i = h.stages.findIndex((s) => s.name === h.stage);
  if (i >= 0) return h.stages.length > 1 || running ? `stage ${i + 1}/${h.stages.length} · ${h.stage}` : '';
  return running ? `validating · ${h.stage}` : '';
}
