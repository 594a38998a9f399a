/**
 * The results panel's host side: creates (or revives) the webview, answers its `ready` with a
 * snapshot of the run model, and forwards changes as deltas at most every 100 ms (≤ 10 per
 * second, each aggregating every event since the last). No `retainContextWhenHidden`: a hidden
 * panel costs nothing; when it shows again it reloads, restores its view from getState, and
 * asks for a fresh snapshot.
 */
import * as vscode from 'vscode';
import type { FromWebview, PanelViewState, ToWebview } from '../protocol/messages';
import { buildPanelHtml, makeNonce } from './panel-html';
import type { RunModel } from './run-model';

export const VIEW_TYPE = 'optstudy.results';
const DELTA_INTERVAL_MS = 100;

/** What the panel needs from the extension. */
export interface PanelHost {
  /** The run the panel shows (the live one, or the last reopened). */
  current(): RunModel | undefined;
  /** A panel restored after a reload asks for the run it showed. */
  reopen(state: PanelViewState): Promise<void>;
  onMessage(m: FromWebview): void;
}

export class ResultsPanel {
  static current: ResultsPanel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private readonly disposables: vscode.Disposable[] = [];

  private constructor(readonly panel: vscode.WebviewPanel, private readonly extensionUri: vscode.Uri, private readonly host: PanelHost) {
    panel.webview.options = ResultsPanel.webviewOptions(extensionUri);
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: FromWebview) => {
        if (m?.type === 'ready') this.sendSnapshot();
        else this.host.onMessage(m);
      }),
      panel.onDidChangeViewState(() => {
        if (panel.visible) this.changed();
      }),
    );
  }

  static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')] };
  }

  /**
   * Shows the panel (creating it when needed) beside the editor. An existing panel is only
   * revealed: it already holds the run (a snapshot here would make it restore its selection and
   * re-open the trial — the #19 re-run loop). Who replaces the run calls {@link sendSnapshot}.
   */
  static show(extensionUri: vscode.Uri, host: PanelHost, preserveFocus = true): ResultsPanel {
    if (ResultsPanel.current) {
      ResultsPanel.current.panel.reveal(undefined, preserveFocus);
      return ResultsPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'OptStudy Results', { viewColumn: vscode.ViewColumn.Beside, preserveFocus }, ResultsPanel.webviewOptions(extensionUri));
    ResultsPanel.current = new ResultsPanel(panel, extensionUri, host);
    return ResultsPanel.current;
  }

  /** Serializer hook: a panel VS Code restores after a reload. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, host: PanelHost, state: PanelViewState | undefined): void {
    ResultsPanel.current?.panel.dispose();
    ResultsPanel.current = new ResultsPanel(panel, extensionUri, host);
    if (state && !host.current()) void host.reopen(state);
  }

  private html(): string {
    const w = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    return buildPanelHtml({
      cspSource: w.cspSource,
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
      nonce: makeNonce(),
    });
  }

  post(m: ToWebview): void {
    void this.panel.webview.postMessage(m);
  }

  /** Sends the whole run (on `ready`, on a new run). */
  sendSnapshot(): void {
    const model = this.host.current();
    this.post({ type: 'snapshot', run: model ? model.snapshot() : null });
    this.panel.title = model ? `Results: ${model.header.study}` : 'OptStudy Results';
  }

  /** The run model changed: schedule a delta (coalesced to one per 100 ms). */
  changed(): void {
    if (this.timer || !this.panel.visible) return;
    const wait = Math.max(0, DELTA_INTERVAL_MS - (Date.now() - this.lastSent));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.panel.visible) return;
      const d = this.host.current()?.takeDelta();
      this.lastSent = Date.now();
      if (d) this.post({ type: 'delta', delta: d });
    }, wait);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (ResultsPanel.current === this) ResultsPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
  }
}
