/**
 * The OptStudy extension: the language client, the commands, the run in its own process with
 * a progress notification and a status-bar item, the results panel, and workspace trust.
 * This file is glue; the logic lives in pure modules (run-model, apply-best, study-scan,
 * trial-opener, journal, run-session) that the unit tests drive without VS Code.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  ResolveStudyRequest,
  ThroughputNotification,
  TrustChangedNotification,
  type OptStudyInitializationOptions,
  type RunCommandArgs,
} from '../protocol/lsp-requests';
import type { FromWebview, PanelViewState, TrialDetail, TrialIntent } from '../protocol/messages';
import type { ParamValues, RunEvent } from '../protocol/run-events';
import { computeApplyBest, type SearchedParamsMode } from './apply-best';
import { runCli } from './cli-runner';
import { eventsFromJournal, JOURNAL_FILE, listRuns, type JournalEvents, type RunInfo } from './journal';
import { mergeAnalysis, reportAnalysis } from './report-analysis';
import { ResultsPanel, VIEW_TYPE, type PanelHost } from './results-panel';
import { formatDuration, formatScore, primaryScore, RunModel, statusText } from './run-model';
import { RunSession, type RunOutcome, type RunRequest } from './run-session';
import { needsTrust, scanStudies, stageAt, type StudyInfo } from './study-scan';
import { TrialOpener } from './trial-opener';

let client: LanguageClient | undefined;
let ext: OptStudyExtension | undefined;

/** Where a run comes from: a study of a file, maybe one stage, maybe a run folder to continue. */
interface RunTarget {
  file: string;
  study?: string;
  stage?: string;
  resume?: string;
}

class OptStudyExtension implements PanelHost {
  readonly output: vscode.OutputChannel;
  private readonly status: vscode.StatusBarItem;
  private session: RunSession | undefined;
  private model: RunModel | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private readonly trials: TrialOpener;
  private analysisAbort: AbortController | undefined;
  /** The "cancelled" status-bar message, cleared when the next run starts. */
  private notice: vscode.Disposable | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('OptStudy Runs');
    this.trials = new TrialOpener(this.cliPath, (l) => this.output.appendLine(l));
    this.status = vscode.window.createStatusBarItem('optstudy.run', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'OptStudy Run';
    this.status.command = 'optstudy.showResults';
    context.subscriptions.push(this.output, this.status);
  }

  private get dist(): string {
    return this.context.asAbsolutePath('dist');
  }

  private get cliPath(): string {
    return path.join(this.dist, 'cli.js');
  }

  current(): RunModel | undefined {
    return this.model;
  }

  // ---- running ------------------------------------------------------------------------------

  /** Resolves the study (and stage) to run from command arguments, the cursor, or a quick pick. */
  async resolveTarget(args: unknown, wantStage: boolean): Promise<RunTarget | undefined> {
    const a = args as Partial<RunCommandArgs> | vscode.Uri | undefined;
    let doc: vscode.TextDocument | undefined;
    let offset: number | undefined;
    if (a instanceof vscode.Uri) doc = await vscode.workspace.openTextDocument(a);
    else if (a && typeof a === 'object' && typeof a.uri === 'string') doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(a.uri));
    else {
      const ed = vscode.window.activeTextEditor;
      if (ed?.document.languageId === 'optstudy') {
        doc = ed.document;
        offset = ed.document.offsetAt(ed.selection.active);
      }
    }
    if (!doc) {
      const files = await vscode.workspace.findFiles('**/*.optstudy', '**/node_modules/**', 200);
      if (files.length === 0) {
        void vscode.window.showErrorMessage('OptStudy: no .optstudy file is open or in the workspace. Open a study file and run again.');
        return undefined;
      }
      const pick = await vscode.window.showQuickPick(files.map((f) => ({ label: vscode.workspace.asRelativePath(f), uri: f })), { title: 'Run which study file?' });
      if (!pick) return undefined;
      doc = await vscode.workspace.openTextDocument(pick.uri);
    }
    const text = doc.getText();
    const scan = scanStudies(text);
    if (scan.studies.length === 0) {
      void vscode.window.showErrorMessage(`OptStudy: ${vscode.workspace.asRelativePath(doc.uri)} has no study block ('study "name" { … }').`);
      return undefined;
    }
    let study: StudyInfo | undefined;
    const named = a && !(a instanceof vscode.Uri) && typeof a === 'object' ? (a as Partial<RunCommandArgs>).study : undefined;
    if (named) study = scan.studies.find((s) => s.name === named);
    else if (offset !== undefined) study = scan.studies.find((s) => offset! >= s.start && offset! <= s.end) ?? (scan.studies.length === 1 ? scan.studies[0] : undefined);
    else if (scan.studies.length === 1) study = scan.studies[0];
    if (!study) {
      const pick = await vscode.window.showQuickPick(scan.studies.map((s) => ({ label: s.name, description: `${s.stages.length} stage(s)`, s })), { title: 'Run which study?' });
      if (!pick) return undefined;
      study = pick.s;
    }
    // Checked before saving: a study with errors is neither run nor written to disk (#19-7).
    const problem = await studyErrors(doc, study);
    if (problem) {
      const go = await vscode.window.showErrorMessage(`OptStudy: study "${study.name}" has errors, so it was not run${doc.isDirty ? ' (nor saved)' : ''}: ${problem}`, 'Show Problems');
      if (go === 'Show Problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      const t = needsTrust(scan, study);
      if (t.needed) {
        const choice = await vscode.window.showErrorMessage(
          `OptStudy: this workspace is not trusted, and ${t.why}. Only built-in strategies run in an untrusted workspace.`,
          'Manage Workspace Trust',
        );
        if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
        return undefined;
      }
    }
    let stage: string | undefined = a && !(a instanceof vscode.Uri) && typeof a === 'object' ? (a as Partial<RunCommandArgs>).stage : undefined;
    if (wantStage && !stage) {
      stage = offset !== undefined ? stageAt(study, offset)?.name : undefined;
      if (!stage) {
        if (study.stages.length === 0) {
          void vscode.window.showErrorMessage(`OptStudy: study "${study.name}" has no stage.`);
          return undefined;
        }
        const pick = await vscode.window.showQuickPick(study.stages.map((s) => ({ label: s.name, description: s.params.map((p) => p.name).join(', ') })), { title: `Run which stage of "${study.name}"?` });
        if (!pick) return undefined;
        stage = pick.label;
      }
    }
    if (doc.isDirty && !(await doc.save())) {
      void vscode.window.showErrorMessage(`OptStudy: ${vscode.workspace.asRelativePath(doc.uri)} could not be saved, so the run would not see your changes.`);
      return undefined;
    }
    return { file: doc.uri.fsPath, study: study.name, stage };
  }

  async run(target: RunTarget): Promise<void> {
    if (this.session) {
      const stop = await vscode.window.showWarningMessage('OptStudy: a run is in progress. Cancel it and start this one?', { modal: true }, 'Cancel and Start');
      if (stop !== 'Cancel and Start') return;
      const s = this.session;
      s.cancel();
      await s.done;
    }
    const hostPath = path.join(this.dist, 'run-host.js');
    if (!fs.existsSync(hostPath)) {
      void vscode.window.showErrorMessage(`OptStudy: the run host is missing (${hostPath}). Rebuild the extension (npm run build).`);
      return;
    }
    const request = runRequest(target);
    this.notice?.dispose();
    const model = new RunModel(`run-${Date.now()}`, target.study ?? path.basename(target.file));
    if (target.resume) {
      model.header.runDir = target.resume;
      model.seed(this.readJournal(target.resume)?.events ?? []);
    }
    this.model = model;
    this.output.appendLine(`${new Date().toISOString()} ${target.resume ? 'resume' : 'run'} ${target.file}${target.study ? ` study "${target.study}"` : ''}${target.stage ? ` stage "${target.stage}"` : ''}${target.resume ? ` from ${target.resume}` : ''}`);
    void vscode.commands.executeCommand('setContext', 'optstudy.running', true);
    // A new run: the panel gets its snapshot (an existing one is only revealed by show()).
    if (vscode.workspace.getConfiguration('optstudy').get<boolean>('showResultsOnRun', true)) ResultsPanel.show(this.context.extensionUri, this);
    ResultsPanel.current?.sendSnapshot();

    let notify: (() => void) | undefined;
    const session = new RunSession({
      hostPath,
      request,
      cwd: path.dirname(target.file),
      onEvent: (e) => {
        model.apply(e);
        this.logEvent(e);
        ResultsPanel.current?.changed();
        notify?.();
        this.scheduleStatus();
      },
    });
    this.session = session;
    this.updateStatus();

    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `OptStudy: ${target.stage ? `stage "${target.stage}" of ` : ''}"${model.header.study}"`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => session.cancel());
        let reported = 0;
        notify = () => {
          const h = model.header;
          const pct = h.total > 0 ? (100 * h.done) / h.total : 0;
          const inc = Math.max(0, pct - reported);
          if (inc >= 0.5 || !model.running) {
            reported = pct;
            progress.report({ increment: inc, message: statusText(h, model.best) });
          }
        };
        await session.done;
      },
    );
    const outcome = await session.done;
    if (this.session === session) this.session = undefined;
    await this.finished(model, outcome);
  }

  /** After a run: the context keys, the analysis, the server's throughput, and what to tell the user. */
  private async finished(model: RunModel, outcome: RunOutcome): Promise<void> {
    void vscode.commands.executeCommand('setContext', 'optstudy.running', false);
    void vscode.commands.executeCommand('setContext', 'optstudy.hasResults', !!model.best);
    this.updateStatus();
    ResultsPanel.current?.changed();
    const end = outcome.end;
    if (end.status !== 'failed' && end.trials > 0) void this.refreshAnalysis(model);
    const elapsed = end.elapsedMs || 1;
    if (end.trials > 0 && elapsed > 0 && end.status === 'finished') {
      // With the run's workers the server scales the rate to another study's workers (#19-8).
      const workers = model.start?.workers;
      void client?.sendNotification(ThroughputNotification, { backtestsPerSecond: (1000 * end.trials) / elapsed, workers });
    }
    if (end.status === 'failed') {
      this.output.appendLine(`run failed: ${end.error ?? 'unknown error'}`);
      if (outcome.stderr.trim()) this.output.appendLine(outcome.stderr.trim());
      const c = await vscode.window.showErrorMessage(`OptStudy: the run failed: ${(end.error ?? 'unknown error').split('\n')[0]}`, 'Show Output');
      if (c) this.output.show(true);
    } else if (end.status === 'cancelled') {
      // A status-bar message, not a toast: a toast cannot be closed from here, and one offering
      // "Resume" stayed up through the resumed run (#19-5). This one goes when a run starts.
      this.notice?.dispose();
      this.notice = vscode.window.setStatusBarMessage(`$(debug-pause) OptStudy: cancelled after ${end.trials} trials; finished trials are kept — Resume from the results panel`, 60_000);
    } else {
      const c = await vscode.window.showInformationMessage(
        `OptStudy: "${model.header.study}" finished: ${end.trials} trials in ${formatDuration(end.elapsedMs)}, best ${formatScore(model.best?.score)}.`,
        'Show Results',
        'Apply Best Parameters',
      );
      if (c === 'Show Results') ResultsPanel.show(this.context.extensionUri, this, false);
      if (c === 'Apply Best Parameters') await this.applyBest();
    }
  }

  private logEvent(e: RunEvent): void {
    if (e.type === 'log') this.output.appendLine(`[${e.level}] ${e.message}`);
    else if (e.type === 'start') this.output.appendLine(`start: ${e.study}, ${e.total} trials in ${e.stages.length} stage(s)${e.runDir ? `, journal in ${e.runDir}` : ''}`);
    else if (e.type === 'stage') this.output.appendLine(`stage "${e.name}" done: best ${formatScore(e.best?.score)} ${e.best ? JSON.stringify(e.best.params) : ''}`);
    else if (e.type === 'trial' && e.state === 'failed') this.output.appendLine(`trial ${e.number} failed: ${e.error ?? ''}`);
    else if (e.type === 'end') this.output.appendLine(`end: ${e.status ?? 'finished'}, ${e.trials} trials in ${formatDuration(e.elapsedMs)}${e.error ? ` — ${e.error}` : ''}`);
  }

  private scheduleStatus(): void {
    if (this.progressTimer) return;
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      this.updateStatus();
    }, 250);
  }

  private updateStatus(): void {
    const m = this.model;
    if (!m) {
      this.status.hide();
      return;
    }
    const icon = m.running ? '$(sync~spin)' : m.header.status === 'finished' ? '$(pass)' : m.header.status === 'cancelled' ? '$(debug-pause)' : '$(error)';
    this.status.text = `${icon} ${statusText(m.header, m.best)}`;
    const md = new vscode.MarkdownString(`**OptStudy — ${m.header.study}**\n\n${statusText(m.header, m.best)}\n\n`);
    md.appendMarkdown(m.running ? '[Show results](command:optstudy.showResults) · [Cancel](command:optstudy.cancel)' : '[Show results](command:optstudy.showResults)');
    md.isTrusted = { enabledCommands: ['optstudy.showResults', 'optstudy.cancel'] };
    this.status.tooltip = md;
    this.status.show();
  }

  cancel(): void {
    if (!this.session) {
      void vscode.window.showInformationMessage('OptStudy: no run in progress.');
      return;
    }
    if (this.session.isCancelled) this.session.kill();
    else this.session.cancel();
  }

  // ---- saved runs ---------------------------------------------------------------------------

  private runRoots(): string[] {
    const roots = new Set<string>();
    for (const f of vscode.workspace.workspaceFolders ?? []) roots.add(f.uri.fsPath);
    for (const d of vscode.workspace.textDocuments) if (d.languageId === 'optstudy' && d.uri.scheme === 'file') roots.add(path.dirname(d.uri.fsPath));
    const m = this.model?.header.file;
    if (m) roots.add(path.dirname(m));
    return [...roots];
  }

  private async pickRun(title: string, filter: (r: RunInfo) => boolean = () => true): Promise<RunInfo | undefined> {
    const runs = listRuns(this.runRoots()).filter(filter);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('OptStudy: no saved runs found (runs are kept under .optstudy/runs/ beside the study).');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      runs.map((r) => ({
        label: r.study,
        description: `${r.status} · ${r.trials} trials${r.best !== undefined && r.best !== null ? ` · best ${formatScore(r.best)}` : ''}`,
        detail: `${r.startedAt ? new Date(r.startedAt).toLocaleString() : new Date(r.mtimeMs).toLocaleString()} — ${vscode.workspace.asRelativePath(r.dir)}`,
        r,
      })),
      { title, matchOnDetail: true },
    );
    return pick?.r;
  }

  /** A run folder's journal as run events, with the objectives' directions from its study file. */
  private readJournal(dir: string): JournalEvents | undefined {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8');
    } catch (e) {
      void vscode.window.showErrorMessage(`OptStudy: cannot read ${path.join(dir, JOURNAL_FILE)}: ${(e as Error).message}`);
      return undefined;
    }
    const head = eventsFromJournal(text, dir);
    // The journal does not record the objectives' directions; the study file does.
    let facts = {};
    const file = head.header?.file;
    if (file && fs.existsSync(file)) {
      const st = scanStudies(fs.readFileSync(file, 'utf8')).studies.find((s) => s.name === head.header?.study);
      if (st?.objectives.length) facts = { directions: st.objectives.map((o) => o.direction), objectives: st.objectives.map((o) => o.expr) };
    }
    const j = eventsFromJournal(text, dir, facts);
    for (const w of j.warnings) this.output.appendLine(w);
    return j;
  }

  /** Loads a run folder's journal into the model and shows it; its analysis follows from the report. */
  async openRun(dir: string): Promise<boolean> {
    const j = this.readJournal(dir);
    if (!j) return false;
    const model = new RunModel(dir);
    for (const e of j.events) model.apply(e);
    if (this.session) {
      void vscode.window.showWarningMessage('OptStudy: a run is in progress; showing the saved run in the panel stops following it (the run goes on).');
    }
    this.model = model;
    void vscode.commands.executeCommand('setContext', 'optstudy.hasResults', !!model.best);
    this.updateStatus();
    ResultsPanel.show(this.context.extensionUri, this, false).sendSnapshot();
    void this.refreshAnalysis(model);
    return true;
  }

  /**
   * Replaces the model's analysis with `optstudy report`'s (the same estimator everywhere, plus
   * PBO, measured DSR and the validation in the verdict), if the model is still shown then.
   */
  private async refreshAnalysis(model: RunModel): Promise<void> {
    const dir = model.header.runDir;
    if (!dir) return;
    this.analysisAbort?.abort();
    const ac = new AbortController();
    this.analysisAbort = ac;
    const r = await reportAnalysis(this.cliPath, dir, ac.signal);
    if (ac.signal.aborted || this.model !== model) return;
    if (!r.analysis) {
      this.output.appendLine(`analysis of ${dir}: ${r.error ?? 'none'}`);
      return;
    }
    model.apply({ type: 'analysis', snapshot: mergeAnalysis(model.analysis, r.analysis) });
    ResultsPanel.current?.changed();
  }

  /**
   * "Compare runs": the user picks another saved run; the panel gets its snapshot at once and
   * again with its analysis (importance, bests) once the report has computed it.
   */
  async pickCompareRun(): Promise<void> {
    const current = this.model?.header.runDir;
    const r = await this.pickRun('Compare with which run?', (x) => x.dir !== current);
    const panel = ResultsPanel.current;
    if (!r) {
      panel?.post({ type: 'compareRun', run: null });
      return;
    }
    const j = this.readJournal(r.dir);
    if (!j) return;
    const other = new RunModel(r.dir);
    for (const e of j.events) other.apply(e);
    panel?.post({ type: 'compareRun', run: other.snapshot() });
    const a = await reportAnalysis(this.cliPath, r.dir);
    if (a.analysis && ResultsPanel.current === panel) {
      other.apply({ type: 'analysis', snapshot: a.analysis });
      panel?.post({ type: 'compareRun', run: other.snapshot() });
    }
  }

  async listRuns(): Promise<void> {
    const r = await this.pickRun('Open which run?');
    if (r) await this.openRun(r.dir);
  }

  async reopen(state: PanelViewState): Promise<void> {
    if (state.runDir && fs.existsSync(path.join(state.runDir, JOURNAL_FILE))) await this.openRun(state.runDir);
  }

  async resume(dir?: string): Promise<void> {
    let runDir = dir;
    if (!runDir && this.model && !this.model.running && this.model.header.status !== 'finished') runDir = this.model.header.runDir;
    if (!runDir) runDir = (await this.pickRun('Resume which run?', (r) => r.status !== 'finished'))?.dir;
    if (!runDir) return;
    const info = listRuns([path.dirname(path.dirname(path.dirname(runDir)))]).find((r) => r.dir === runDir);
    let file = info?.file ?? this.model?.header.file;
    if (!file) {
      const text = fs.existsSync(path.join(runDir, JOURNAL_FILE)) ? fs.readFileSync(path.join(runDir, JOURNAL_FILE), 'utf8') : '';
      file = eventsFromJournal(text, runDir).header?.file;
    }
    if (!file || !fs.existsSync(file)) {
      void vscode.window.showErrorMessage(`OptStudy: cannot resume ${runDir}: its study file ${file ?? '(unknown)'} is gone.`);
      return;
    }
    const text = fs.readFileSync(file, 'utf8');
    const scan = scanStudies(text);
    const study = scan.studies.find((s) => s.name === info?.study) ?? scan.studies[0];
    if (!vscode.workspace.isTrusted && study && needsTrust(scan, study).needed) {
      void vscode.window.showErrorMessage(`OptStudy: this workspace is not trusted, and ${needsTrust(scan, study).why}. Only built-in strategies run in an untrusted workspace.`);
      return;
    }
    await this.run({ file, study: info?.study ?? study?.name, resume: runDir });
  }

  async exportReport(): Promise<void> {
    let runDir = this.model?.header.runDir;
    if (!runDir || this.model?.running) runDir = (await this.pickRun('Export a report of which run?'))?.dir;
    if (!runDir) return;
    const fmt = await vscode.window.showQuickPick(
      [
        { label: 'HTML', description: 'one self-contained page with charts and the ranking', ext: 'html', flag: '--html' },
        { label: 'CSV', description: 'one row per trial', ext: 'csv', flag: '--csv' },
        { label: 'JSON', description: 'the run, its best and every trial', ext: 'json', flag: '--json' },
      ],
      { title: 'Report format' },
    );
    if (!fmt) return;
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(runDir, `report.${fmt.ext}`)), filters: { [fmt.label]: [fmt.ext] } });
    if (!target) return;
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'OptStudy: writing the report…' }, () =>
      runCli(path.join(this.dist, 'cli.js'), ['report', runDir!, fmt.flag, target.fsPath], path.dirname(runDir!)),
    );
    if (r.code !== 0) {
      this.output.appendLine(r.stderr);
      void vscode.window.showErrorMessage(`OptStudy: the report failed: ${(r.stderr.trim() || `exit code ${r.code}`).split('\n')[0]}`);
      return;
    }
    const open = await vscode.window.showInformationMessage(`OptStudy: report written to ${vscode.workspace.asRelativePath(target)}.`, 'Open');
    if (open) {
      if (fmt.ext === 'html') await vscode.env.openExternal(target);
      else await vscode.window.showTextDocument(target);
    }
  }

  // ---- results → study ----------------------------------------------------------------------

  /**
   * Apply Best Parameters. Without a chosen trial, when the analysis flags the best trial as an
   * isolated peak, the user is offered the most robust trial instead (#19-9).
   */
  async applyBest(params?: ParamValues, n?: number): Promise<void> {
    const m = this.model;
    if (!m) {
      void vscode.window.showInformationMessage('OptStudy: no run results yet. Run a study or open a saved run first.');
      return;
    }
    if (!params) {
      const choice = await this.bestOrRobust(m);
      if (!choice) return;
      if (choice !== 'best') return this.applyBest(choice.params, choice.number);
    }
    // A chosen trial applies on top of the stage bests it ran with.
    const trialStage = n !== undefined ? m.header.stages[m.trials.find((t) => t.n === n)?.s ?? -1]?.name : undefined;
    const values = params ? { ...m.fixedBefore(trialStage), ...params } : m.bestParams();
    if (Object.keys(values).length === 0) {
      void vscode.window.showInformationMessage('OptStudy: the run has no feasible best trial to apply.');
      return;
    }
    const file = m.header.file;
    if (!file) {
      void vscode.window.showErrorMessage('OptStudy: the run does not record its study file.');
      return;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const mode = vscode.workspace.getConfiguration('optstudy').get<SearchedParamsMode>('applyBest.searchedParams', 'comment');
    const res = computeApplyBest(doc.getText(), m.header.study, values, mode);
    if (res.error) {
      void vscode.window.showErrorMessage(`OptStudy: cannot apply the parameters: ${res.error}.`);
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    for (const e of res.edits) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.newText);
    if (!(await vscode.workspace.applyEdit(edit))) {
      void vscode.window.showErrorMessage('OptStudy: the edit could not be applied (the file changed?).');
      return;
    }
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    void vscode.window.showInformationMessage(`OptStudy: ${res.summary}. Undo (Ctrl+Z) reverts it.`);
  }

  /**
   * Runs one trial again and shows it in the panel's Trial card (or adds it to the overlay).
   * Without a trial number the user picks one of the best 30. A request for another run than
   * the one shown (a panel that has not caught up) is dropped, as is an answer that arrives
   * after a new run replaced this one.
   */
  /** "Apply Most Robust Parameters": the analysis's most robust trial, on top of the stage bests before it. */
  async applyRobust(): Promise<void> {
    const r = this.model?.analysis?.mostRobust;
    if (!this.model) return this.applyBest();
    if (!r || r.number === undefined) {
      void vscode.window.showInformationMessage('OptStudy: the run has no robust score yet (it needs trials with neighbours: a grid, or a search with enough trials).');
      return;
    }
    return this.applyBest(r.params, r.number);
  }

  /** 'best', the most robust trial when the user prefers it over an isolated-peak best, or undefined (cancelled). */
  private async bestOrRobust(m: RunModel): Promise<'best' | { params: ParamValues; number: number } | undefined> {
    const peak = m.analysis?.overfitting?.items.find((i) => i.key === 'isolated-peak');
    const robust = m.analysis?.mostRobust;
    if (!peak || !robust || robust.number === undefined || robust.number === m.best?.number) return 'best';
    const pick = await vscode.window.showWarningMessage(
      `OptStudy: the best trial #${m.best?.number ?? '?'} is an isolated peak — ${peak.text}.`,
      { modal: true, detail: `The most robust trial #${robust.number} scores ${formatScore(robust.score)} with a robust score of ${formatScore(robust.robust)} over ${robust.neighbours} neighbours.` },
      'Apply Most Robust',
      'Apply Best Anyway',
    );
    if (pick === 'Apply Best Anyway') return 'best';
    if (pick === 'Apply Most Robust') return { params: robust.params, number: robust.number };
    return undefined;
  }

  async openTrial(n?: number, params?: ParamValues, stage?: string, opts: { runId?: string; intent?: TrialIntent } = {}): Promise<void> {
    const m = this.model;
    if (!m) {
      void vscode.window.showInformationMessage('OptStudy: no run results yet.');
      return;
    }
    if (opts.runId && opts.runId !== m.header.id) return;
    if (n === undefined) {
      n = await this.pickTrial(m);
      if (n === undefined) return;
    }
    params ??= m.trialParams(n) ?? {};
    const row = m.trials.find((t) => t.n === n);
    stage ??= row ? m.header.stages[row.s]?.name : undefined;
    const runId = m.header.id;
    const panel = ResultsPanel.show(this.context.extensionUri, this, true);
    const post = (detail: TrialDetail) => {
      if (this.model?.header.id === runId) panel.post({ type: 'trialDetail', detail });
    };
    const fail = (error: string) => post({ n: n!, stage, params: params!, equity: [], trades: [], error, runId, ...(opts.intent ? { intent: opts.intent } : {}) });
    const file = m.header.file;
    if (!file || !fs.existsSync(file)) return fail('the study file of this run is not available');
    if (!vscode.workspace.isTrusted) {
      const scan = scanStudies(fs.readFileSync(file, 'utf8'));
      const study = scan.studies.find((s) => s.name === m.header.study);
      const t = study ? needsTrust(scan, study) : { needed: false };
      if (t.needed) return fail(`this workspace is not trusted, and ${t.why}: trust the workspace to re-run it`);
    }
    panel.post({ type: 'trialDetailPending', n });
    const detail = await this.trials.open({ runId, n, stage, params, runParams: { ...m.fixedBefore(stage), ...params }, studyFile: file, study: m.header.study, intent: opts.intent });
    post(detail);
  }

  /** Quick pick of the best 30 complete trials. */
  private async pickTrial(m: RunModel): Promise<number | undefined> {
    const top = m.trials
      .filter((t) => t.st === 'complete')
      .map((t) => ({ t, v: primaryScore(t.sc) }))
      .filter((x) => x.v !== null)
      .sort((a, b) => (m.header.directions[0] === 'minimize' ? a.v! - b.v! : b.v! - a.v!))
      .slice(0, 30);
    const pick = await vscode.window.showQuickPick(
      top.map(({ t }) => ({ label: `#${t.n}`, description: `score ${formatScore(t.sc)}`, detail: JSON.stringify(m.trialParams(t.n)), n: t.n })),
      { title: 'Re-run which trial?' },
    );
    return pick?.n;
  }

  onMessage(msg: FromWebview): void {
    switch (msg.type) {
      case 'openTrial':
        void this.openTrial(msg.n, msg.params, msg.stage, { runId: msg.runId, intent: msg.intent });
        break;
      case 'applyParams':
        void this.applyBest(msg.params, msg.n);
        break;
      case 'saveImage':
        void saveImage(msg, this.model?.header.runDir);
        break;
      case 'pickCompareRun':
        void this.pickCompareRun();
        break;
      case 'cancel':
        this.cancel();
        break;
      case 'resume':
        void this.resume();
        break;
      case 'exportReport':
        void this.exportReport();
        break;
      case 'listRuns':
        void this.listRuns();
        break;
    }
  }

  dispose(): void {
    this.analysisAbort?.abort();
    this.session?.kill();
    if (this.progressTimer) clearTimeout(this.progressTimer);
  }
}

/** Save a chart from the panel: PNG bytes (base64) or SVG text, where the user says. */
async function saveImage(msg: Extract<FromWebview, { type: 'saveImage' }>, runDir: string | undefined): Promise<void> {
  const name = msg.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'chart';
  const base = runDir ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const target = await vscode.window.showSaveDialog({
    ...(base ? { defaultUri: vscode.Uri.file(path.join(base, `${name}.${msg.format}`)) } : {}),
    filters: { [msg.format.toUpperCase()]: [msg.format] },
  });
  if (!target) return;
  const bytes = msg.format === 'png' ? Buffer.from(msg.data, 'base64') : Buffer.from(msg.data, 'utf8');
  try {
    await vscode.workspace.fs.writeFile(target, bytes);
    void vscode.window.showInformationMessage(`OptStudy: chart saved to ${vscode.workspace.asRelativePath(target)}.`);
  } catch (e) {
    void vscode.window.showErrorMessage(`OptStudy: cannot save the chart: ${(e as Error).message}`);
  }
}

/**
 * Why a study cannot run, or undefined when it can: the language server's answer for the text as
 * it is in the editor (saved or not), else the published diagnostics inside the study.
 */
async function studyErrors(doc: vscode.TextDocument, study: StudyInfo): Promise<string | undefined> {
  const inside = (d: vscode.Diagnostic) => d.severity === vscode.DiagnosticSeverity.Error && doc.offsetAt(d.range.start) >= study.start && doc.offsetAt(d.range.start) <= study.end;
  let hasErrors: boolean | undefined;
  if (client?.isRunning()) {
    try {
      const r = await client.sendRequest(ResolveStudyRequest, { uri: doc.uri.toString(), study: study.name });
      if (r.version === null || r.version === doc.version) hasErrors = r.studies.some((s) => s.hasErrors);
    } catch {
      // Fall back to the published diagnostics.
    }
  }
  const published = vscode.languages.getDiagnostics(doc.uri).filter(inside);
  if (hasErrors === false) return undefined;
  if (hasErrors === undefined && published.length === 0) return undefined;
  const first = published[0];
  return first ? `${published.length} error(s), e.g. line ${first.range.start.line + 1}: ${first.message}` : 'see the Problems panel';
}

async function startLanguageClient(context: vscode.ExtensionContext): Promise<void> {
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio },
    debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6029'] } },
  };
  const initializationOptions: OptStudyInitializationOptions = { trusted: vscode.workspace.isTrusted };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'optstudy' }],
    outputChannelName: 'OptStudy',
    initializationOptions,
  };
  // The id 'optstudy' makes the client honour the `optstudy.trace.server` setting.
  client = new LanguageClient('optstudy', 'OptStudy Language Server', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void client?.sendNotification(TrustChangedNotification, { trusted: true });
    }),
  );
  await client.start();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const e = new OptStudyExtension(context);
  ext = e;
  context.subscriptions.push({ dispose: () => e.dispose() });
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg('optstudy.run', async (args) => {
    const t = await e.resolveTarget(args, false);
    if (t) await e.run(t);
  });
  reg('optstudy.runStage', async (args) => {
    const t = await e.resolveTarget(args, true);
    if (t) await e.run(t);
  });
  reg('optstudy.cancel', () => e.cancel());
  reg('optstudy.resume', (dir) => e.resume(typeof dir === 'string' ? dir : undefined));
  reg('optstudy.showResults', () => ResultsPanel.show(context.extensionUri, e, false));
  reg('optstudy.listRuns', () => e.listRuns());
  reg('optstudy.applyRobust', () => e.applyRobust());
  reg('optstudy.compareRuns', async () => {
    ResultsPanel.show(context.extensionUri, e, false);
    await e.pickCompareRun();
  });
  reg('optstudy.exportReport', () => e.exportReport());
  reg('optstudy.applyBest', (arg) => {
    const a = arg as { params?: ParamValues; n?: number } | undefined;
    return e.applyBest(a?.params, a?.n);
  });
  reg('optstudy.openTrial', (arg) => {
    const a = arg as { n?: number; params?: ParamValues; stage?: string } | undefined;
    return e.openTrial(a?.n, a?.params, a?.stage);
  });
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: PanelViewState | undefined) {
        ResultsPanel.revive(panel, context.extensionUri, e, state);
      },
    }),
  );
  void vscode.commands.executeCommand('setContext', 'optstudy.running', false);
  try {
    await startLanguageClient(context);
  } catch (err) {
    // Commands keep working without the language server (runs do not need it).
    e.output.appendLine(`the language server did not start: ${(err as Error).message}`);
  }
}

export async function deactivate(): Promise<void> {
  ext?.dispose();
  await client?.stop();
}

/** The run host's request for `target`, with the configured workers and the workspace folder. */
function runRequest(target: RunTarget): RunRequest {
  const workers = vscode.workspace.getConfiguration('optstudy').get<number>('workers', 0);
  const request: RunRequest = { type: 'run', file: target.file, study: target.study, stage: target.stage, resume: target.resume, trusted: vscode.workspace.isTrusted };
  if (workers > 0) request.workers = workers;
  // Data and module paths may use the whole workspace folder, as the language server checks them.
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(target.file));
  if (folder) request.workspaceRoot = folder.uri.fsPath;
  return request;
}
