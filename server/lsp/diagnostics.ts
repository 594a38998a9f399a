/**
 * Diagnostics of a document: the language's checks (grammar) plus the ones that need the
 * workspace — data and module files that are missing or unreadable, and strategies that run
 * code (`command`, `module`) in an untrusted workspace — converted to LSP diagnostics with
 * `source`, a documentation link, related information and the fix `data` kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import { IssueCodes, type Diagnostic, type Range } from '../../grammar/index';
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
}

/** Every diagnostic of the document, LSP-shaped. */
export function computeDiagnostics(doc: ParsedDocument, ws: WorkspaceState): LspDiagnostic[] {
  const all = [...doc.analysis.diagnostics, ...workspaceDiagnostics(doc, ws)];
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
 * Findings that need the file system or the workspace's trust. Paths are relative to the
 * study file; documents that are not files (untitled) are not checked against the disk.
 */
export function workspaceDiagnostics(doc: ParsedDocument, ws: WorkspaceState): Diagnostic[] {
  const out: Diagnostic[] = [];
  const dir = doc.filePath ? path.dirname(doc.filePath) : null;
  for (const item of doc.analysis.ast.items) {
    if (item.kind === 'strategyDecl') {
      if (!ws.trusted && (item.command || item.module)) {
        out.push(untrusted(item.command?.range ?? item.module?.range ?? item.range, item.command ? 'an external command' : 'a module'));
      }
      if (item.module && dir) fileCheck(out, dir, item.module.value, item.module.range, 'module');
      continue;
    }
    for (const s of item.statements) {
      if (s.kind === 'data' && s.path && dir) fileCheck(out, dir, s.path.value, s.path.range, 'data');
      if (s.kind === 'strategy' && s.module) {
        if (!ws.trusted) out.push(untrusted(s.module.range, 'a module'));
        if (dir) fileCheck(out, dir, s.module.value, s.module.range, 'module');
      }
      if (s.kind === 'strategy' && s.name && !ws.trusted) {
        const decl = doc.analysis.strategies.get(s.name.name);
        if (decl && decl.kind === 'command') out.push(untrusted(s.name.range, 'an external command'));
      }
    }
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

function fileCheck(out: Diagnostic[], dir: string, rel: string, range: Range, what: 'data' | 'module'): void {
  if (rel.trim() === '') return;
  const abs = path.resolve(dir, rel);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    out.push({
      severity: 'error',
      code: what === 'data' ? IssueCodes.DataFileMissing : IssueCodes.ModuleFileMissing,
      message: `${what === 'data' ? 'Data file' : 'Strategy module'} "${rel}" not found (looked for ${abs}). Paths are relative to the study file.`,
      range,
      data: { path: abs },
    });
    return;
  }
  if (stat.isDirectory()) {
    out.push({ severity: 'error', code: what === 'data' ? IssueCodes.DataFileUnreadable : IssueCodes.ModuleFileMissing, message: `"${rel}" is a folder, not a ${what} file.`, range, data: { path: abs } });
    return;
  }
  try {
    fs.accessSync(abs, fs.constants.R_OK);
  } catch {
    out.push({ severity: 'error', code: what === 'data' ? IssueCodes.DataFileUnreadable : IssueCodes.ModuleFileMissing, message: `"${rel}" cannot be read (permissions).`, range, data: { path: abs } });
  }
}
