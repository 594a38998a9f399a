/**
 * `optstudy trial FILE [--study NAME] [--params JSON] [--param k=v]... [--json]`: one trial of a
 * study run again on its own (server/analysis/replay.ts) — the same data window, broker and
 * strategy as the study's runs, so its metrics equal the journal's. With `--json`:
 * `{"params","metrics","score","state","trades","equity":{"dates","values"},"benchmark"}`.
 * The results panel's Trial card runs this for a double-clicked trial.
 */
import type { ParamValues } from '../../protocol/run-events';
import { ReplayError, replayTrial } from '../analysis/replay';
import { BacktestError } from '../engine/types';
import { StudyError } from '../run/run-study';
import type { Command } from './main';

const USAGE = `Usage: optstudy trial FILE [--study NAME] [--params JSON] [--param k=v]... [--json]

Runs one trial of a study again: the study's data, window, broker settings and strategy, with
the strategy's defaults and the study's overrides, then these parameters (later wins).
  --study NAME    which study of the file (default: the first)
  --params JSON   the trial's parameters as a JSON object ({"fast":10,"slow":30})
  --param k=v     one parameter (numbers and true/false are typed; anything else is a string)
  --json          print {"params","metrics","score","state","trades","equity","benchmark"}
Exit 0 on success, 1 when the trial cannot run, 2 for bad arguments.
`;

/** `k=v` with v typed as the language types a literal. */
function parseParam(text: string): [string, number | string | boolean] | null {
  const i = text.indexOf('=');
  if (i <= 0) return null;
  const k = text.slice(0, i).trim();
  const v = text.slice(i + 1).trim();
  if (v === 'true' || v === 'false') return [k, v === 'true'];
  const n = Number(v);
  return [k, v !== '' && Number.isFinite(n) ? n : v.replace(/^"(.*)"$/, '$1')];
}

export const trialCommand: Command = async (args, io) => {
  let file: string | undefined;
  let study: string | undefined;
  let json = false;
  const params: ParamValues = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') {
      io.out(USAGE);
      return 0;
    } else if (a === '--json') json = true;
    else if (a === '--study' || a === '--params' || a === '--param') {
      const v = args[++i];
      if (v === undefined) {
        io.err(`optstudy trial: ${a} needs a value.\n\n${USAGE}`);
        return 2;
      }
      if (a === '--study') study = v;
      else if (a === '--param') {
        const kv = parseParam(v);
        if (!kv) {
          io.err(`optstudy trial: --param takes NAME=VALUE, got '${v}'.\n`);
          return 2;
        }
        params[kv[0]] = kv[1];
      } else {
        let o: unknown;
        try {
          o = JSON.parse(v);
        } catch {
          o = undefined;
        }
        if (!o || typeof o !== 'object' || Array.isArray(o)) {
          io.err(`optstudy trial: --params takes a JSON object like {"fast":10}, got '${v}'.\n`);
          return 2;
        }
        Object.assign(params, o);
      }
    } else if (a.startsWith('-')) {
      io.err(`optstudy trial: unknown option '${a}'.\n\n${USAGE}`);
      return 2;
    } else if (file === undefined) file = a;
    else {
      io.err(`optstudy trial: one study file at a time (got '${file}' and '${a}').\n\n${USAGE}`);
      return 2;
    }
  }
  if (file === undefined) {
    io.err(`optstudy trial: which study? Give the path of a .optstudy file.\n\n${USAGE}`);
    return 2;
  }
  try {
    const r = await replayTrial({ file, study, params });
    if (json) io.out(JSON.stringify(r) + '\n');
    else {
      const m = r.metrics;
      io.out(`${r.study}: ${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
      io.out(`  state ${r.state}${r.error ? ` (${r.error})` : ''}, score ${JSON.stringify(r.score)}\n`);
      for (const k of ['final_value', 'total_return_pct', 'sharpe', 'max_drawdown_pct', 'trades']) if (m[k] !== undefined) io.out(`  ${k} ${m[k]}\n`);
      // A basket: each symbol's own backtest under the summed account's numbers.
      for (const s of r.symbols ?? []) io.out(`  ${s.symbol}: ${['total_return_pct', 'sharpe', 'max_drawdown_pct', 'trades'].map((k) => `${k} ${s.metrics[k]}`).join(', ')}\n`);
      if (r.note) io.out(`  note: ${r.note}\n`);
    }
    return 0;
  } catch (e) {
    // A parameter the strategy refuses (a misspelt name, a period of -5) is the user's error, not ours.
    if (e instanceof StudyError || e instanceof ReplayError || e instanceof BacktestError) {
      io.err(`optstudy trial: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
};
