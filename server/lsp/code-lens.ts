/**
 * Code lenses above each study and stage: "▶ Run study · 1,600 backtests" and
 * "▶ Run stage · 80 backtests", wired to the client's `optstudy.run` / `optstudy.runStage`
 * commands; with the throughput measured by the last run, an estimated duration is appended.
 */
import type { CodeLens } from 'vscode-languageserver';
import { RUN_COMMAND, RUN_STAGE_COMMAND, type RunCommandArgs } from '../../protocol/lsp-requests';
import type { ParsedDocument } from './document';
import { formatCount, formatDuration } from './lookup';
import { stageSeconds, studySeconds, type Throughput } from './time-estimate';

/**
 * The lenses of a document; a measured throughput (optional) adds "≈ 12 s": the backtests at
 * that speed, one batch at a time for model-based searches, plus their proposals' own cost
 * (server/lsp/time-estimate.ts).
 */
export function computeCodeLenses(doc: ParsedDocument, throughput?: Throughput): CodeLens[] {
  const lenses: CodeLens[] = [];
  const eta = (s: number | undefined) => (s === undefined || !Number.isFinite(s) ? '' : s < 1 ? ' · < 1 s' : ` · ≈ ${formatDuration(s)}`);
  const count = (n: number, exact: boolean) => `${exact ? '' : '≈ '}${formatCount(n)} backtest${n === 1 ? '' : 's'}`;
  for (const study of doc.analysis.studies) {
    const head = { start: study.range.start, end: study.range.start };
    const args: RunCommandArgs = { uri: doc.uri, study: study.name };
    lenses.push({
      range: head,
      command: {
        title: `▶ Run study · ${count(study.total, study.totalExact)}${eta(studySeconds(study, throughput))}${study.hasErrors ? ' · has errors' : ''}`,
        command: RUN_COMMAND,
        arguments: [args],
      },
    });
    for (const stage of study.stages) {
      const stageArgs: RunCommandArgs = { uri: doc.uri, study: study.name, stage: stage.name };
      lenses.push({
        range: { start: stage.range.start, end: stage.range.start },
        command: { title: `▶ Run stage · ${count(stage.size, stage.sizeExact)}${eta(stageSeconds(stage, study, throughput))}`, command: RUN_STAGE_COMMAND, arguments: [stageArgs] },
      });
    }
  }
  return lenses;
}
