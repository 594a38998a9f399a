/**
 * The OptStudy language server entry: `node dist/server.js --stdio`.
 * Wiring only; each feature is a pure function of an analyzed document (server/lsp/*.ts).
 *
 * Test-only hook: `OPTSTUDY_FAULT=hover,completion` (feature names as in `handle(...)` below)
 * makes those handlers throw, so tests can check that an internal error is logged and still
 * answered with an empty result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CodeActionKind,
  CodeLensRefreshRequest,
  createConnection,
  DidChangeWatchedFilesNotification,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type CancellationToken,
  type ClientCapabilities,
  type DiagnosticServerCancellationData,
  type DocumentDiagnosticParams,
  type DocumentDiagnosticReport,
  type InitializeResult,
  type SemanticTokens,
  type SemanticTokensParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  GridSizeRequest,
  ResolveStudyRequest,
  ThroughputNotification,
  TrustChangedNotification,
  type GridSizeParams,
  type GridSizeResult,
  type OptStudyInitializationOptions,
  type ResolveStudyParams,
  type ResolveStudyResult,
  type ThroughputParams,
  type TrustChangedParams,
} from '../../protocol/lsp-requests';
import { computeCodeActions } from './code-actions';
import { computeCodeLenses } from './code-lens';
import type { Throughput } from './time-estimate';
import { backtraderNameItems, backtraderNameSite, computeCompletion } from './completion';
import { gridSizes, resolveStudy } from './custom-requests';
import { clearWorkspaceChecks, computeDiagnostics, type WorkspaceState } from './diagnostics';
import { filePathOf, parseDocument, type ParsedDocument } from './document';
import { formatText } from './formatting';
import { ModuleSchemaReader } from './module-schemas';
import { BacktraderDescriber, listBacktraderNames } from '../strategies/backtrader/describe';
import { Analyzer, type AnalyzeOptions } from '../../grammar/index';
import { computeHover } from './hover';
import { backtraderNameAt, backtraderNameHover } from './backtrader-hover';
import { computeInlayHints } from './inlay-hints';
import { computeDefinition, computeDocumentLinks, computeRename, prepareRename } from './navigation';
import { SEMANTIC_TOKEN_MODIFIERS, SEMANTIC_TOKEN_TYPES, computeSemanticTokens } from './semantic-tokens';
import { computeDocumentSymbols, computeFoldingRanges } from './symbols';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

// `OPTSTUDY_INCREMENTAL=0` analyzes whole documents on every version (to compare, or to rule the cache out).
const incremental = process.env.OPTSTUDY_INCREMENTAL !== '0';
const faults = new Set((process.env.OPTSTUDY_FAULT ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const workspace: WorkspaceState = { trusted: true, moduleProblem: (file, module) => (workspace.trusted ? schemas.problem(file, module, workspace.root) : undefined) };
let throughput: Throughput | undefined;
let caps: ClientCapabilities = {};
let pullDiagnostics = false;

// ---------------------------------------------------------------------------------------------
// The document cache: one analysis per document version.

const cache = new Map<string, ParsedDocument>();
const analyzers = new Map<string, Analyzer>();

// Strategy modules' parameters are read in a child process; when a read ends, the analyses
// made without them are out of date.
const schemas = new ModuleSchemaReader({
  script: path.join(__dirname, 'read-module-params.js'),
  onSettled: () => {
    dropAnalyses();
    refreshDiagnostics();
  },
  log: (m) => connection.console.warn(m),
});

// backtrader strategies are described by their bridge (a Python child process), the same way.
const backtraders = new BacktraderDescriber(() => {
  dropAnalyses();
  refreshDiagnostics();
});

/** Options of the language analysis of one document: module and backtrader strategies' schemas when trusted. */
function analyzeOptions(uri: string): AnalyzeOptions {
  return {
    moduleSchemas: schemas.loader(filePathOf(uri), () => workspace.trusted, () => workspace.root),
    backtraderSchemas: backtraders.loader(filePathOf(uri), () => workspace.trusted),
  };
}

function dropAnalyses(): void {
  cache.clear();
  analyzers.clear();
}

/** Drops every analysis (trust or files changed: module schemas and workspace checks may differ). */
function invalidateAll(): void {
  dropAnalyses();
  clearWorkspaceChecks();
}

/**
 * The analyzed document for `uri`, once the strategy modules it names have been read (each
 * read is bounded by its time limit, and waiting for one blocks no other request).
 */
async function getDocument(uri: string): Promise<ParsedDocument | undefined> {
  let doc = analyzeDocument(uri);
  // A read of one of its modules, started by this analysis or running, may change it: wait
  // for it, then analyze again. Each read is bounded by its limits; the rounds are bounded
  // too, in case a module file changes again while it is read.
  for (let i = 0; i < 3 && doc; i++) {
    const reads = workspace.trusted ? [...schemas.pending(doc.filePath, modulesOf(doc), workspace.root), ...backtraders.pending(doc.filePath, backtraderSpecsOf(doc))] : [];
    if (reads.length === 0) break;
    await Promise.all(reads);
    doc = analyzeDocument(uri);
  }
  return doc;
}

/** The backtrader SPECs a document declares. */
function backtraderSpecsOf(doc: ParsedDocument): string[] {
  const out: string[] = [];
  for (const s of doc.analysis.strategies.values()) if (s.backtrader) out.push(s.backtrader.trim());
  return out;
}

/** The strategy module paths a document names (declared or in a study). */
function modulesOf(doc: ParsedDocument): string[] {
  const out: string[] = [];
  for (const s of doc.analysis.strategies.values()) if (s.module) out.push(s.module);
  for (const st of doc.analysis.studies) if (st.strategy?.kind === 'module' && st.strategy.module) out.push(st.strategy.module);
  return out;
}

/** The analyzed document for `uri`: an open one at its current version, else read from disk. */
function analyzeDocument(uri: string): ParsedDocument | undefined {
  const open = documents.get(uri);
  const cached = cache.get(uri);
  if (open) {
    if (cached && cached.version === open.version) return cached;
    let analyzer = analyzers.get(uri);
    if (!analyzer && incremental) analyzers.set(uri, (analyzer = new Analyzer(analyzeOptions(uri))));
    const parsed = parseDocument(open.getText(), uri, open.version, analyzeOptions(uri), analyzer);
    cache.set(uri, parsed);
    return parsed;
  }
  // Not open (e.g. "Run" from the explorer): analyze the file as it is on disk, uncached.
  const file = filePathOf(uri);
  if (!file) return undefined;
  try {
    return parseDocument(fs.readFileSync(file, 'utf8'), uri, -1, analyzeOptions(uri));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Handlers: every one wrapped, so an internal error is logged and answered with an empty result.

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function cancelled(): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
}

/**
 * Wraps a handler: checks cancellation before and after the work (yielding once first, so a
 * `$/cancelRequest` already on the wire is seen), turns exceptions into a log line and `empty`.
 */
function handle<P, R, E = void>(name: string, empty: R, fn: (params: P, token: CancellationToken) => R | Promise<R>) {
  return async (params: P, token: CancellationToken): Promise<R | ResponseError<E>> => {
    await yieldToEventLoop();
    if (token?.isCancellationRequested) return cancelled() as ResponseError<E>;
    try {
      if (faults.has(name)) throw new Error(`fault injected into ${name} (OPTSTUDY_FAULT)`);
      const result = await fn(params, token);
      if (token?.isCancellationRequested) return cancelled() as ResponseError<E>;
      return result;
    } catch (e) {
      if (e instanceof ResponseError) return e as ResponseError<E>;
      const err = e as Error;
      connection.console.error(`optstudy: ${name} failed: ${err?.stack ?? String(e)}`);
      return empty;
    }
  };
}

connection.onInitialize((params): InitializeResult => {
  caps = params.capabilities;
  const init = (params.initializationOptions ?? {}) as OptStudyInitializationOptions;
  workspace.trusted = init.trusted !== false;
  const rootUri = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? null;
  workspace.root = (rootUri && filePathOf(rootUri)) || undefined;
  pullDiagnostics = caps.textDocument?.diagnostic !== undefined;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: [' ', '{', ','] },
      hoverProvider: true,
      inlayHintProvider: true,
      codeLensProvider: { resolveProvider: false },
      documentSymbolProvider: true,
      foldingRangeProvider: true,
      documentFormattingProvider: true,
      semanticTokensProvider: { legend: { tokenTypes: [...SEMANTIC_TOKEN_TYPES], tokenModifiers: [...SEMANTIC_TOKEN_MODIFIERS] }, full: true },
      definitionProvider: true,
      documentLinkProvider: { resolveProvider: false },
      renameProvider: { prepareProvider: true },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      ...(pullDiagnostics ? { diagnosticProvider: { interFileDependencies: false, workspaceDiagnostics: false } } : {}),
    },
    serverInfo: { name: 'optstudy-language-server', version: '0.1.0' },
  };
});

connection.onInitialized(() => {
  // Data files appearing or disappearing change the workspace diagnostics.
  if (caps.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
    void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*' }] }).catch(() => undefined);
  }
});

// Diagnostics: pull when the client supports it, else push after each change.
connection.languages.diagnostics.on(
  handle<DocumentDiagnosticParams, DocumentDiagnosticReport, DiagnosticServerCancellationData>('diagnostics', { kind: 'full', items: [] }, async (params) => {
    const doc = await getDocument(params.textDocument.uri);
    return { kind: 'full', items: doc ? computeDiagnostics(doc, workspace) : [] } as DocumentDiagnosticReport;
  }),
);

const pushTimers = new Map<string, NodeJS.Timeout>();
function schedulePush(uri: string): void {
  if (pullDiagnostics) return;
  clearTimeout(pushTimers.get(uri));
  // A short debounce: while the user types, only the last version's diagnostics are computed.
  pushTimers.set(
    uri,
    setTimeout(() => {
      pushTimers.delete(uri);
      void pushDiagnostics(uri);
    }, 30),
  );
}

async function pushDiagnostics(uri: string): Promise<void> {
  const open = documents.get(uri);
  if (!open) return;
  let items: ReturnType<typeof computeDiagnostics> = [];
  try {
    if (faults.has('diagnostics')) throw new Error('fault injected into diagnostics (OPTSTUDY_FAULT)');
    const doc = await getDocument(uri);
    // A newer version arrived while the modules were read: its own push follows.
    if (documents.get(uri)?.version !== open.version) return;
    items = doc ? computeDiagnostics(doc, workspace) : [];
  } catch (e) {
    connection.console.error(`optstudy: diagnostics failed: ${(e as Error)?.stack ?? String(e)}`);
  }
  void connection.sendDiagnostics({ uri, version: open.version, diagnostics: items });
}

function refreshDiagnostics(): void {
  if (pullDiagnostics) {
    if (caps.workspace?.diagnostics?.refreshSupport) void connection.languages.diagnostics.refresh().catch(() => undefined);
  } else for (const d of documents.all()) schedulePush(d.uri);
}

documents.onDidChangeContent((e) => schedulePush(e.document.uri));
documents.onDidClose((e) => {
  cache.delete(e.document.uri);
  analyzers.delete(e.document.uri);
  clearTimeout(pushTimers.get(e.document.uri));
  if (!pullDiagnostics) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});
connection.onDidChangeWatchedFiles((p) => {
  // A changed source file may be a strategy module or one it imports: read modules again.
  if (p.changes.some((c) => /\.[cm]?[jt]sx?$/.test(c.uri))) schemas.clear();
  invalidateAll();
  refreshDiagnostics();
});

// The protocol module's message types come from the client's protocol package (a newer
// vscode-jsonrpc than this server's), so register by method name with the declared types.
connection.onNotification(TrustChangedNotification.method, (p: TrustChangedParams) => {
  workspace.trusted = p?.trusted !== false;
  invalidateAll();
  refreshDiagnostics();
});
connection.onNotification(ThroughputNotification.method, (p: ThroughputParams) => {
  const v = Number(p?.backtestsPerSecond);
  const w = Number(p?.workers);
  throughput = Number.isFinite(v) && v > 0 ? { backtestsPerSecond: v, workers: Number.isInteger(w) && w > 0 ? w : undefined } : undefined;
  if (caps.workspace?.codeLens?.refreshSupport) void connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
});

// The features.
const docOf = (uri: string) => getDocument(uri);

connection.onCompletion(
  handle('completion', [], async (p) => {
    const doc = await docOf(p.textDocument.uri);
    if (!doc) return [];
    // After `backtrader "FILE.py:`: the file's classes and factories, from the bridge (trusted only).
    const site = backtraderNameSite(doc, p.position);
    if (site) {
      if (!workspace.trusted || !doc.filePath) return [];
      return backtraderNameItems((await listBacktraderNames(site.where, path.dirname(doc.filePath))) ?? [], site.range);
    }
    const snippets = caps.textDocument?.completion?.completionItem?.snippetSupport === true;
    return computeCompletion(doc, p.position, { snippets });
  }),
);
connection.onHover(
  handle('hover', null, async (p) => {
    const doc = await docOf(p.textDocument.uri);
    if (!doc) return null;
    // The NAME of `backtrader "FILE.py:NAME"`: its docstring and parameters, from the bridge (trusted only).
    const site = backtraderNameAt(doc, p.position);
    if (site) {
      if (!workspace.trusted || !doc.filePath) return null;
      return backtraderNameHover(site, (await listBacktraderNames(site.where, path.dirname(doc.filePath))) ?? []);
    }
    return computeHover(doc, p.position);
  }),
);
connection.languages.inlayHint.on(handle('inlayHints', [], async (p) => { const doc = await docOf(p.textDocument.uri); return doc ? computeInlayHints(doc, p.range) : []; }));
connection.onCodeLens(handle('codeLens', [], async (p) => { const doc = await docOf(p.textDocument.uri); return doc ? computeCodeLenses(doc, throughput) : []; }));
connection.onDocumentSymbol(handle('documentSymbol', [], async (p) => { const doc = await docOf(p.textDocument.uri); return doc ? computeDocumentSymbols(doc) : []; }));
connection.onFoldingRanges(handle('foldingRanges', [], async (p) => { const doc = await docOf(p.textDocument.uri); return doc ? computeFoldingRanges(doc) : []; }));
connection.onDocumentFormatting(
  handle('formatting', [], async (p) => {
    const doc = await docOf(p.textDocument.uri);
    if (!doc) return [];
    const formatted = formatText(doc.text, { tabSize: p.options.tabSize, insertSpaces: p.options.insertSpaces });
    if (formatted === null || formatted === doc.text) return [];
    return [{ range: { start: { line: 0, character: 0 }, end: doc.positionAt(doc.text.length) }, newText: formatted }];
  }),
);
connection.languages.semanticTokens.on(handle<SemanticTokensParams, SemanticTokens>('semanticTokens', { data: [] }, async (p) => { const doc = await docOf(p.textDocument.uri); return { data: doc ? computeSemanticTokens(doc) : [] }; }));
connection.onDefinition(handle('definition', null, async (p) => { const doc = await docOf(p.textDocument.uri); return doc ? computeDefinition(doc, p.position) : null; }));
connection.onDocumentLinks(handle('documentLinks', [], async (p) => { const doc = await docOf(p.textDocument.uri); return doc ? computeDocumentLinks(doc) : []; }));
connection.onPrepareRename(handle('prepareRename', null, async (p) => { const doc = await docOf(p.textDocument.uri); return doc ? prepareRename(doc, p.position) : null; }));
connection.onRenameRequest(
  handle('rename', null, async (p) => {
    const doc = await docOf(p.textDocument.uri);
    if (!doc) return null;
    try {
      return computeRename(doc, p.position, p.newName);
    } catch (e) {
      // An invalid new name is the user's mistake, not ours: tell them.
      throw new ResponseError(-32602, (e as Error).message);
    }
  }),
);
connection.onCodeAction(handle('codeAction', [], async (p) => { const doc = await docOf(p.textDocument.uri); return doc ? computeCodeActions(doc, p.context.diagnostics) : []; }));
connection.onRequest(ResolveStudyRequest.method, handle('resolveStudy', { version: null, studies: [] } as ResolveStudyResult, async (p: ResolveStudyParams) => {
  const doc = await docOf(p.uri);
  return doc ? resolveStudy(doc, p) : { version: null, studies: [] };
}));
connection.onRequest(GridSizeRequest.method, handle('gridSize', { version: null, studies: [] } as GridSizeResult, async (p: GridSizeParams) => {
  const doc = await docOf(p.uri);
  return doc ? gridSizes(doc) : { version: null, studies: [] };
}));

// A server must never die of an unexpected exception: log it and keep serving.
process.on('uncaughtException', (e) => connection.console.error(`optstudy: uncaught: ${e?.stack ?? String(e)}`));
process.on('unhandledRejection', (e) => connection.console.error(`optstudy: unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));

documents.listen(connection);
connection.listen();
