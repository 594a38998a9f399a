/** Helpers for run-engine tests: temporary study folders over the real sample price files. */
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { EndEvent, RunEvent, TrialEvent } from '../../protocol/run-events';
import { tempFolder } from './temp';

/** The repository root (the folder with package.json), from the built test's location. */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'samples'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** A sample price file, absolute. */
export function sampleData(name: string): string {
  return path.join(repoRoot(), 'samples', 'data', name);
}

/**
 * Writes files into a new temporary folder (removed when the test process exits); returns the
 * folder. Sample price files a study names (by absolute path, `sampleData(…)`, or by file name)
 * are copied into the folder and named relatively: `optstudy run` refuses data outside the
 * study's folder.
 */
export function tempStudy(files: Record<string, string>): string {
  const dir = tempFolder('optstudy-run-');
  const samples = path.join(repoRoot(), 'samples', 'data');
  for (const [name, text] of Object.entries(files)) {
    const local = text.split(samples + path.sep).join('');
    for (const f of readdirSync(samples)) if (local.includes(`"${f}"`) && !existsSync(path.join(dir, f))) copyFileSync(path.join(samples, f), path.join(dir, f));
    writeFileSync(path.join(dir, name), local);
  }
  return dir;
}

/** Collects a run's events. */
export function collector(): { events: RunEvent[]; onEvent: (e: RunEvent) => void; trials: () => TrialEvent[]; end: () => EndEvent | undefined } {
  const events: RunEvent[] = [];
  return {
    events,
    onEvent: (e) => events.push(e),
    trials: () => (events.filter((e) => e.type === 'trial') as TrialEvent[]).sort((a, b) => a.number - b.number),
    end: () => events.find((e) => e.type === 'end') as EndEvent | undefined,
  };
}

/** The comparable essence of a trial. */
export function essence(t: TrialEvent): unknown {
  return { number: t.number, stage: t.stage, params: t.params, score: t.score, state: t.state, error: t.error };
}

/** A two-stage study (a grid over the exits, then TPE over the entries) on ORCL 2005–2014. */
export const TWO_STAGES = `
study "two stages" {
  data "${sampleData('orcl-1995-2014.txt')}" from 2005-01-01 to 2014-12-31
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy ema_atr
  objective maximize sharpe
  constraint trades >= 5
  stage "risk" {
    search grid
    param atr_sl_multiplier in [1.5, 2.0, 2.5, 3.0]
    param atr_tp_multiplier in 4.0 .. 10.0 step 2.0
  }
  stage "entry" {
    search tpe { trials 40, init 8 }
    param ema_fast in 5 .. 30 step 1
    param ema_slow in 20 .. 120 step 5
    where ema_fast < ema_slow
  }
  seed 7
}
`;
