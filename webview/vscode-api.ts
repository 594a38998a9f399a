/**
 * The editor's side of the panel: `acquireVsCodeApi` once, typed messages out, and the view
 * state kept with `setState` (what a reloaded panel restores; the data itself stays with the
 * extension).
 */
import type { FromWebview, PanelViewState } from '../protocol/messages';

interface VsCodeApi {
  postMessage(msg: FromWebview): void;
  getState(): PanelViewState | undefined;
  setState(s: PanelViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

/** Sends a message to the extension. */
export function post(m: FromWebview): void {
  api.postMessage(m);
}

/** The panel's view state, restored from the last `setState`. */
export const view: PanelViewState = { sortKey: 'score', sortDesc: true, heatAgg: 'mean', paretoX: 0, paretoY: 1, ...(api.getState() ?? {}) };

/** Saves {@link view}. */
export function saveView(): void {
  api.setState(view);
}
