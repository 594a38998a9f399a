/**
 * `optstudy report RUN_DIR [--html FILE] [--csv FILE] [--json FILE] [--no-reruns] [--top N]`
 * Without an output flag: a text summary on stdout. `-` as FILE writes to stdout.
 * Exit 0 on success, 2 for bad arguments or a missing/empty/corrupt run folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReport, reportHtml, reportJson, reportText, RunFolderError, trialsCsv } from '../report';
import type { Command } from './main';

const USAGE = `Usage: optstudy report RUN_DIR [--html FILE] [--csv FILE] [--json FILE] [--no-reruns] [--top N]

Reports on a saved run (a folder holding journal.jsonl, e.g. one made by 'optstudy run --out DIR').
  --html FILE    one self-contained HTML report (charts inlined, no network access)
  --csv FILE     one row per trial: number, stage, state, score, parameters, metrics, error
  --json FILE    a JSON summary (rankings, importance, Pareto, robustness)
  --no-reruns    skip engine re-runs (Deflated Sharpe moments, PBO, trade bootstrap)
  --top N        rows in the ranking (default 20)
Without --html/--csv/--json a text summary is printed. Use - as FILE for stdout.
`;

export const reportCommand: Command = async (args, io) => {
  let dir: string | undefined;
  const out: { html?: string; csv?: string; json?: string } = {};
  let noReruns = false;
  let top: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string | undefined => {
      const v = args[++i];
      if (v === undefined || (v.startsWith('--') && v !== '-')) {
        io.err(`optstudy report: ${a} needs a value.\n\n${USAGE}`);
        return undefined;
      }
      return v;
    };
    if (a === '--help' || a === '-h') {
      io.out(USAGE);
      return 0;
    } else if (a === '--html' || a === '--csv' || a === '--json') {
      const v = value();
      if (v === undefined) return 2;
      out[a.slice(2) as 'html' | 'csv' | 'json'] = v;
    } else if (a === '--no-reruns') noReruns = true;
    else if (a === '--top') {
      const v = value();
      if (v === undefined) return 2;
      top = Number(v);
      if (!Number.isInteger(top) || top < 1) {
        io.err(`optstudy report: --top takes a whole number ≥ 1, got '${v}'.\n`);
        return 2;
      }
    } else if (a.startsWith('-') && a !== '-') {
      io.err(`optstudy report: unknown option '${a}'.\n\n${USAGE}`);
      return 2;
    } else if (dir === undefined) dir = a;
    else {
      io.err(`optstudy report: one run folder at a time (got '${dir}' and '${a}').\n\n${USAGE}`);
      return 2;
    }
  }
  if (dir === undefined) {
    io.err(`optstudy report: which run? Pass its folder.\n\n${USAGE}`);
    return 2;
  }
  let model;
  try {
    model = await buildReport(dir, { noReruns, ...(top ? { topN: top } : {}) });
  } catch (e) {
    if (e instanceof RunFolderError) {
      io.err(`optstudy report: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const write = (file: string, text: string, what: string): boolean => {
    if (file === '-') {
      io.out(text);
      return true;
    }
    try {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      fs.writeFileSync(file, text);
    } catch (e) {
      io.err(`optstudy report: cannot write ${what} to ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      return false;
    }
    if (io.isTTY) io.err(`wrote ${what}: ${file}\n`);
    return true;
  };
  if (!out.html && !out.csv && !out.json) {
    io.out(reportText(model));
    return 0;
  }
  let ok = true;
  if (out.csv) ok = write(out.csv, trialsCsv(model.trials, { directions: model.run.directions, ...(model.snapshot.params ? { params: model.snapshot.params } : {}) }), 'CSV') && ok;
  if (out.json) ok = write(out.json, JSON.stringify(reportJson(model), null, 2) + '\n', 'JSON summary') && ok;
  if (out.html) ok = write(out.html, reportHtml(model), 'HTML report') && ok;
  return ok ? 0 : 1;
};
