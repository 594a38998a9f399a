/**
 * Open Trial: runs one trial again with `optstudy trial --json` (in a child process: the client
 * never imports the engine, and a slow backtest never blocks the extension host) and keeps the
 * answers. A trial asked again — a second click, the panel restoring its selection after a
 * reload — is answered from the cache, and a request already running is joined, never started
 * twice: the #19 re-run loop ran one backtest per message. No vscode.
 */
import type { TrialDetail, TrialIntent } from '../protocol/messages';
import type { ParamValues } from '../protocol/run-events';
import { runCli } from './cli-runner';
import { parseTrial, trialArgs } from './trial-detail';

export interface TrialRequest {
  /** The run the trial belongs to (RunHeader.id). */
  runId: string;
  n: number;
  stage?: string;
  /** The trial's own parameters (what the panel shows). */
  params: ParamValues;
  /** What the backtest runs with: the stage bests fixed before the trial's stage, then its own. */
  runParams: ParamValues;
  studyFile: string;
  study?: string;
  intent?: TrialIntent;
}

/** Details kept per opener; the oldest go first. */
const CACHE_SIZE = 64;

export class TrialOpener {
  private readonly cache = new Map<string, TrialDetail>();
  private readonly running = new Map<string, Promise<TrialDetail>>();
  /** Backtests started so far (a test counts them). */
  reruns = 0;

  constructor(
    private readonly cliPath: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** The trial's detail: from the cache, from a re-run already under way, or from a new one. */
  async open(req: TrialRequest): Promise<TrialDetail> {
    const key = `${req.runId}\u0000${req.n}\u0000${JSON.stringify(req.runParams)}`;
    const done = this.cache.get(key);
    const answer = done ? Promise.resolve(done) : (this.running.get(key) ?? this.start(key, req));
    const d = await answer;
    // Same trial, maybe asked for another purpose (open vs overlay).
    return { ...d, ...(req.intent ? { intent: req.intent } : {}) };
  }

  private start(key: string, req: TrialRequest): Promise<TrialDetail> {
    this.reruns++;
    const args = trialArgs(req.studyFile, req.study, req.runParams);
    this.log(`open trial ${req.n}: optstudy ${args.map((a) => (/\s|"/.test(a) ? `'${a}'` : a)).join(' ')}`);
    const p = runCli(this.cliPath, args).then((r) => {
      const ctx = { n: req.n, stage: req.stage, runId: req.runId };
      const d = r.code === 0 ? parseTrial(ctx, req.params, r.stdout) : { ...ctx, params: req.params, equity: [], trades: [], error: (r.stderr.trim() || `exit code ${r.code}`).split('\n').slice(0, 3).join(' ') };
      this.running.delete(key);
      // Failures are not kept: the user may fix the study and ask again.
      if (!d.error) {
        this.cache.set(key, d);
        if (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
      }
      return d;
    });
    this.running.set(key, p);
    return p;
  }
}
