/**
 * The OptStudy extensions to the Language Server Protocol, declared once: the client and the
 * server both import these objects, so a method name or a parameter shape can only change in
 * one place (the pattern of rust-analyzer's `lsp_ext.ts`). Types only apart from the
 * `RequestType`/`NotificationType` constants; no engine, no vscode.
 */
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';

/** A position in a document, 0-based like the LSP. */
export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

/** The options the client passes in `initialize.initializationOptions`. */
export interface OptStudyInitializationOptions {
  /** Whether the workspace is trusted (VS Code workspace trust). Missing = trusted. */
  trusted?: boolean;
}

/** `optstudy/trustChanged` (client → server): the workspace became trusted (or not). */
export interface TrustChangedParams {
  trusted: boolean;
}
export const TrustChangedNotification = new NotificationType<TrustChangedParams>('optstudy/trustChanged');

/**
 * `optstudy/throughput` (client → server): backtests per second measured by the last run, so
 * code lenses can show an estimated duration ("≈ 12 s").
 */
export interface ThroughputParams {
  backtestsPerSecond: number;
  /** Workers of that run (optional; the estimate assumes the study's, else the cores). */
  workers?: number;
}
export const ThroughputNotification = new NotificationType<ThroughputParams>('optstudy/throughput');

/** The arguments of the `optstudy.run` / `optstudy.runStage` commands the code lenses carry. */
export interface RunCommandArgs {
  /** The study file's URI. */
  uri: string;
  /** The study's name. */
  study: string;
  /** The stage's name (`optstudy.runStage` only). */
  stage?: string;
}

/** Command identifiers the server puts into code lenses (the client registers them). */
export const RUN_COMMAND = 'optstudy.run';
export const RUN_STAGE_COMMAND = 'optstudy.runStage';

/** `optstudy/resolveStudy` parameters. Without `position` (and without `study`) every study of the file is returned. */
export interface ResolveStudyParams {
  uri: string;
  /** Returns the study enclosing this position (or the first one after it). */
  position?: LspPosition;
  /** Returns the study with this name. */
  study?: string;
}

/** One study resolved for running: the grammar's study model (JSON-safe) with where it lives. */
export interface ResolvedStudy {
  name: string;
  /** The study file's absolute path (data and module paths are relative to its folder). */
  file: string;
  /** The study's range in the document. */
  range: LspRange;
  /** True when the document has an error diagnostic inside this study (a run would fail). */
  hasErrors: boolean;
  /** The grammar's StudyModel (grammar/model.ts), passed through as JSON. */
  model: unknown;
}

export interface ResolveStudyResult {
  /** The document version the answer was computed from. */
  version: number | null;
  studies: ResolvedStudy[];
}
export const ResolveStudyRequest = new RequestType<ResolveStudyParams, ResolveStudyResult, void>('optstudy/resolveStudy');

/** `optstudy/gridSize` parameters. */
export interface GridSizeParams {
  uri: string;
}

/** A stage's size: the number of backtests it will run. */
export interface StageSize {
  name: string;
  /** Feasible combinations of a grid (after `where`), or the `trials` budget. Null when unknown (errors). */
  size: number | null;
  /** False when `size` is an estimate (a `where` too large to count exactly). */
  exact: boolean;
  search: string;
  range: LspRange;
}

export interface StudySize {
  name: string;
  total: number | null;
  exact: boolean;
  range: LspRange;
  stages: StageSize[];
}

export interface GridSizeResult {
  version: number | null;
  studies: StudySize[];
}
export const GridSizeRequest = new RequestType<GridSizeParams, GridSizeResult, void>('optstudy/gridSize');
