/**
 * Diagnostics of a document: the language's checks (grammar) plus the ones that need the
 * workspace — data and module files that are missing or unreadable, and strategies that run
 * code (`command`, `module`) in an untrusted workspace — converted to LSP diagnostics with
 * `source`, a documentation link, related information and the fix `data` kept.
 */
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import { IssueCodes, type Diagnostic, type Range, type StudyModel } from '../../grammar/index';
import { checkWorkspace } from '../workspace-checks';
import type { ParsedDocument } from './document';

/** Where each diagnostic code is explained (`codeDescription.href` = this + `#code`). */
export const DIAGNOSTICS_DOC_URL = 'https://github.com/optstudy/optstudy/blob/main/docs/diagnostics.md';

/** Code of the untrusted-workspace finding (a workspace check, added by the server). */
export const UNTRUSTED_CODE = 'untrusted-workspace';

const SEVERITY: Record<Diagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export interface WorkspaceState {
  /** Workspace trust as the client reported it. */
  trusted: boolean;
  /** The workspace folder paths may not leave (default: each study file's folder). */
  root?: string;
  /** Why a strategy module's parameters could not be read (server/lsp/module-schemas.ts), if so. */
  moduleProblem?: (studyFile: string, modulePath: string) => string | undefined;
}

/**
 * Most diagnostics sent for one document: past this the editor's list is of no use and every
 * keystroke would ship megabytes. Errors are kept first, then warnings, then the rest.
 */
export const MAX_DIAGNOSTICS = 1000;

/** Every diagnostic of the document (up to `MAX_DIAGNOSTICS`), LSP-shaped. */
export function computeDiagnostics(doc: ParsedDocument, ws: WorkspaceState): LspDiagnostic[] {
  let all = doc.analysis.diagnostics.concat(workspaceDiagnostics(doc, ws));
  if (all.length > MAX_DIAGNOSTICS) {
    const rank = { error: 0, warning: 1, information: 2, hint: 3 } as const;
    const kept = all.map((d, i) => ({ d, i })).sort((a, b) => rank[a.d.severity] - rank[b.d.severity] || a.i - b.i);
    const omitted = kept.length - (MAX_DIAGNOSTICS - 1);
    const first = kept[MAX_DIAGNOSTICS - 1]!.d;
    all = kept.slice(0, MAX_DIAGNOSTICS - 1).map((k) => k.d);
    all.push({ severity: 'information', code: 'too-many-problems', message: `${omitted.toLocaleString('en-US')} more problems are not shown (only the first ${MAX_DIAGNOSTICS.toLocaleString('en-US')} of a document are): fix these first`, range: first.range });
  }
  return all.map((d) => toLsp(doc.uri, d));
}

/** One grammar diagnostic as an LSP diagnostic. */
export function toLsp(uri: string, d: Diagnostic): LspDiagnostic {
  const out: LspDiagnostic = {
    range: d.range,
    severity: SEVERITY[d.severity] ?? DiagnosticSeverity.Error,
    code: d.code,
    codeDescription: { href: `${DIAGNOSTICS_DOC_URL}#${d.code}` },
    source: 'optstudy',
    message: d.message,
  };
  if (d.data !== undefined) out.data = d.data;
  if (d.related?.length) out.relatedInformation = d.related.map((r) => ({ location: { uri, range: r.range }, message: r.message }));
  if (d.tags?.length) out.tags = d.tags.map((t) => (t === 'unnecessary' ? DiagnosticTag.Unnecessary : DiagnosticTag.Deprecated));
  return out;
}

/**
 * Findings that need the file system (server/workspace-checks.ts, shared with `optstudy
 * check`) or the workspace's trust. Paths are relative to the study file; documents that are
 * not files (untitled) are not checked against the disk.
 */
export function workspaceDiagnostics(doc: ParsedDocument, ws: WorkspaceState): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const add = (d: Diagnostic) => {
    // A declared module strategy used by several studies is reported once.
    const key = `${d.code}|${d.range.start.line}:${d.range.start.character}|${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  };
  if (doc.filePath) {
    for (const study of doc.analysis.studies) for (const d of cachedCheck(study, doc.filePath, ws.root)) add(d);
    for (const d of moduleProblems(doc, doc.filePath, ws)) add(d);
  }
  if (ws.trusted) return out;
  for (const item of doc.analysis.ast.items) {
    if (item.kind === 'strategyDecl') {
      if (item.command || item.module) add(untrusted(item.command?.range ?? item.module?.range ?? item.range, item.command ? 'an external command' : 'a module'));
      continue;
    }
    for (const s of item.statements) {
      if (s.kind !== 'strategy') continue;
      if (s.module) add(untrusted(s.module.range, 'a module'));
      const decl = s.name ? doc.analysis.strategies.get(s.name.name) : undefined;
      if (s.name && decl) add(untrusted(s.name.range, decl.kind === 'command' ? 'an external command' : 'a module'));
    }
  }
  return out;
}

/**
 * File checks are a few system calls per study; on a long document most studies are the same
 * from one keystroke to the next, so their results are kept briefly (and dropped when the
 * client reports changed files: `clearWorkspaceChecks`).
 */
const checkCache = new Map<string, { at: number; diagnostics: Diagnostic[] }>();
const CHECK_TTL_MS = 2000;

export function clearWorkspaceChecks(): void {
  checkCache.clear();
}

function cachedCheck(study: StudyModel, file: string, root: string | undefined): Diagnostic[] {
  const key = JSON.stringify([file, root, study.datas, study.strategy?.kind, study.strategy?.module, study.ranges, study.range]);
  const now = Date.now();
  const hit = checkCache.get(key);
  if (hit && now - hit.at < CHECK_TTL_MS) return hit.diagnostics;
  // Ranges copied: the analysis moves a study's positions in place when lines are inserted
  // above it (grammar/incremental.ts), and these are kept under the positions they had.
  const diagnostics = checkWorkspace(study, file, { workspaceRoot: root }).map((d) => ({ ...d, range: { start: { ...d.range.start }, end: { ...d.range.end } } }));
  if (checkCache.size > 5000) checkCache.clear();
  checkCache.set(key, { at: now, diagnostics });
  return diagnostics;
}

/** A module whose parameters could not be read: said at each place that names it. */
function moduleProblems(doc: ParsedDocument, file: string, ws: WorkspaceState): Diagnostic[] {
  if (!ws.moduleProblem) return [];
  const out: Diagnostic[] = [];
  const places: { module: string; range: Range }[] = [];
  for (const s of doc.analysis.strategies.values()) if (s.module && s.moduleRange) places.push({ module: s.module, range: s.moduleRange });
  for (const study of doc.analysis.studies)
    if (study.strategy?.kind === 'module' && study.strategy.module && study.ranges.module) places.push({ module: study.strategy.module, range: study.ranges.module });
  for (const p of places) {
    const problem = ws.moduleProblem(file, p.module);
    if (problem)
      out.push({ severity: 'warning', code: IssueCodes.ModuleParamsUnreadable, message: `the parameters of ${JSON.stringify(p.module.length > 80 ? p.module.slice(0, 80) + '…' : p.module)} could not be read: ${problem}`, range: p.range });
  }
  return out;
}

function untrusted(range: Range, what: string): Diagnostic {
  return {
    severity: 'warning',
    code: UNTRUSTED_CODE,
    message: `This strategy runs ${what}: running it needs a trusted workspace (Manage Workspace Trust). Checking and editing work as usual.`,
    range,
  };
}
