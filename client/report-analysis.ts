/**
 * The analysis of a saved run as `optstudy report` computes it (in a child process: the client
 * never imports the engine). The panel shows it for a reopened run — so a run reopened shows
 * the same importance as it did live and as the CLI prints (#19-3: one estimator, one answer) —
 * and after a live run ends, when the report adds what the run host cannot stream: PBO and the
 * Deflated Sharpe from re-runs, and the verdict with the run's validation (#19-4). No vscode.
 */
import type { AnalysisSnapshot } from '../protocol/analysis';
import { runCli } from './cli-runner';

export interface ReportAnalysis {
  analysis: AnalysisSnapshot | null;
  error?: string;
}

/** Runs `optstudy report DIR --json -` and returns its analysis snapshot. Never rejects. */
export async function reportAnalysis(cliPath: string, runDir: string, signal?: AbortSignal): Promise<ReportAnalysis> {
  const r = await runCli(cliPath, ['report', runDir, '--json', '-'], undefined, signal);
  if (r.code !== 0) return { analysis: null, error: (r.stderr.trim() || `exit code ${r.code}`).split('\n')[0] };
  try {
    const j = JSON.parse(r.stdout) as { snapshot?: AnalysisSnapshot };
    return j.snapshot ? { analysis: j.snapshot } : { analysis: null, error: 'the report has no analysis' };
  } catch {
    return { analysis: null, error: 'the report printed no JSON' };
  }
}

/**
 * The report's snapshot over the one the panel holds: everything from the report, except that
 * the report's JSON leaves out the slices' raw points, which the held snapshot may still have.
 */
export function mergeAnalysis(held: AnalysisSnapshot | null, report: AnalysisSnapshot): AnalysisSnapshot {
  if (!held?.slices || !report.slices) return report;
  const points = new Map(held.slices.map((s) => [s.param, s.points]));
  return { ...report, slices: report.slices.map((s) => (s.points ? s : { ...s, points: points.get(s.param) ?? [] })) };
}
