/**
 * Writes run folders for the report tests from real backtests (not a test file): a study file
 * and a journal shaped like server/run/journal.ts writes it (header line, one trial line per
 * backtest, an end line), with scores computed from the engine's metrics as the study says.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrialEvent } from '../../protocol/run-events';
import { tempFolder } from '../support/temp';
import { DATA, runGrid } from './real-runs';

export function tempDir(name: string): string {
  return tempFolder(`optstudy-analysis-${name}-`);
}

export interface MadeRun {
  dir: string;
  studyFile: string;
  trials: TrialEvent[];
}

/** A single-objective grid (maximize sharpe, constraint trades >= 5) on ORCL 1995–2014. */
export function makeSingleObjectiveRun(
  grid: Record<string, number[]> = { fast: [5, 10, 15, 20, 30, 40, 150], slow: [50, 80, 120, 160, 200, 450] }, opts: { validate?: string } = {},
): MadeRun {
  const dir = tempDir('single');
  const studyFile = path.join(dir, 'study.optstudy');
  fs.writeFileSync(studyFile, `study "report single" {
  data "${path.join(DATA, 'orcl-1995-2014.txt')}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize sharpe
  constraint trades >= 5
  stage "grid" {
    search grid
${Object.entries(grid).map(([k, v]) => `    param ${k} in [${v.join(', ')}]`).join('\n')}
  }
  seed 1
${opts.validate ? `  validate ${opts.validate}\n` : ''}}
`);
  const { trials } = runGrid('sma_cross', grid, {
    score: (m) => (typeof m.sharpe === 'number' && (m.trades ?? 0) >= 5 ? m.sharpe : null),
  });
  for (const t of trials) if (t.state === 'infeasible') t.error = `constraint "trades >= 5" violated, trades = ${t.metrics.trades}`;
  writeJournal(dir, studyFile, 'report single', trials);
  return { dir, studyFile, trials };
}

/** Two objectives (maximize sharpe, minimize max_drawdown_pct) over a grid, with an end line carrying the front. */
export function makeTwoObjectiveRun(): MadeRun {
  const dir = tempDir('multi');
  const studyFile = path.join(dir, 'study.optstudy');
  fs.writeFileSync(studyFile, `study "report multi" {
  data "${path.join(DATA, 'orcl-1995-2014.txt')}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objectives {
    maximize sharpe
    minimize max_drawdown_pct
  }
  stage "front" {
    search grid
    param fast in [5, 10, 20, 30, 40]
    param slow in [50, 100, 150, 200]
  }
}
`);
  const { trials } = runGrid('sma_cross', { fast: [5, 10, 20, 30, 40], slow: [50, 100, 150, 200] }, {
    stage: 'front',
    score: (m) => (typeof m.sharpe === 'number' && typeof m.max_drawdown_pct === 'number' ? [m.sharpe, m.max_drawdown_pct] : null),
  });
  writeJournal(dir, studyFile, 'report multi', trials);
  return { dir, studyFile, trials };
}

export function writeJournal(dir: string, studyFile: string, study: string, trials: TrialEvent[], opts: { end?: boolean; extra?: string } = {}): void {
  const header = {
    type: 'header', format: 1, study, file: studyFile, studyHash: 'test', seed: 1, dataHash: 'test',
    versions: { optstudy: '0.1.0', node: process.version, journal: 1 }, startedAt: '2026-11-23T00:00:00.000Z',
  };
  const lines = [JSON.stringify(header), ...trials.map((t) => JSON.stringify(t))];
  if (opts.end !== false) lines.push(JSON.stringify({ type: 'end', best: null, trials: trials.length, elapsedMs: 1, status: 'finished' }));
  fs.writeFileSync(path.join(dir, 'journal.jsonl'), lines.join('\n') + '\n' + (opts.extra ?? ''));
}
