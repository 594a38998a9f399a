/**
 * A test session with the built language server: initialize with chosen client capabilities,
 * open and edit documents, and typed helpers for the requests the tests make. Every call goes
 * over real JSON-RPC on the server's stdio (test/support/lsp-client.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer, ROOT, type TestServer } from './lsp-client';

export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'lsp');
export const SAMPLES = path.join(ROOT, 'samples');

/** The sample study files (`samples/*.optstudy`, files only: `.optstudy/` is the runs folder). */
export function sampleFiles(): string[] {
  return fs
    .readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.optstudy') && fs.statSync(path.join(SAMPLES, f)).isFile())
    .sort();
}

export interface SessionOptions {
  /** Announce pull diagnostics (`textDocument.diagnostic`); default true. */
  pull?: boolean;
  snippets?: boolean;
  /** initializationOptions.trusted; omitted when undefined. */
  trusted?: boolean;
  env?: Record<string, string>;
  refreshSupport?: boolean;
  /** The workspace folder (default: the repository). */
  root?: string;
}

export interface Pos {
  line: number;
  character: number;
}

export class LspSession {
  readonly server: TestServer;
  private versions = new Map<string, number>();
  constructor(readonly options: SessionOptions = {}) {
    this.server = startServer(options.env ?? {});
  }

  static async start(options: SessionOptions = {}): Promise<LspSession> {
    const s = new LspSession(options);
    await s.initialize();
    return s;
  }

  async initialize(): Promise<any> {
    const o = this.options;
    const capabilities: any = {
      textDocument: {
        completion: { completionItem: { snippetSupport: o.snippets !== false } },
        hover: { contentFormat: ['markdown', 'plaintext'] },
        publishDiagnostics: { versionSupport: true, relatedInformation: true },
        rename: { prepareSupport: true },
      },
      workspace: {},
    };
    if (o.pull !== false) capabilities.textDocument.diagnostic = { dynamicRegistration: false };
    if (o.refreshSupport) {
      capabilities.workspace.diagnostics = { refreshSupport: true };
      capabilities.workspace.codeLens = { refreshSupport: true };
    }
    const result = await this.request('initialize', {
      processId: process.pid,
      rootUri: pathToFileURL(o.root ?? ROOT).href,
      capabilities,
      initializationOptions: o.trusted === undefined ? undefined : { trusted: o.trusted },
    });
    this.notify('initialized', {});
    return result;
  }

  request<T = any>(method: string, params: unknown): Promise<T> {
    return this.server.connection.sendRequest(method, params) as Promise<T>;
  }

  notify(method: string, params: unknown): void {
    this.server.connection.sendNotification(method, params).catch(() => undefined);
  }

  /** Opens a document (a file URI under test/fixtures/lsp unless an absolute path or URI is given). */
  open(name: string, text: string): string {
    const uri = name.startsWith('file:') ? name : pathToFileURL(path.isAbsolute(name) ? name : path.join(FIXTURES, name)).href;
    this.versions.set(uri, 1);
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'optstudy', version: 1, text } });
    return uri;
  }

  /** Replaces the whole text; returns the new version. */
  change(uri: string, text: string): number {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    this.notify('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
    return v;
  }

  /** An incremental edit: replaces `range` by `text`. */
  edit(uri: string, range: { start: Pos; end: Pos }, text: string): number {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    this.notify('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ range, text }] });
    return v;
  }

  close(uri: string): void {
    this.notify('textDocument/didClose', { textDocument: { uri } });
  }

  diagnostics(uri: string): Promise<any[]> {
    return this.request<any>('textDocument/diagnostic', { textDocument: { uri } }).then((r) => r.items);
  }
  completion(uri: string, position: Pos): Promise<any[]> {
    return this.request<any>('textDocument/completion', { textDocument: { uri }, position }).then((r) => (Array.isArray(r) ? r : r?.items ?? []));
  }
  hover(uri: string, position: Pos): Promise<any> {
    return this.request('textDocument/hover', { textDocument: { uri }, position });
  }
  inlayHints(uri: string, range?: { start: Pos; end: Pos }): Promise<any[]> {
    return this.request('textDocument/inlayHint', { textDocument: { uri }, range: range ?? { start: { line: 0, character: 0 }, end: { line: 100000, character: 0 } } });
  }
  codeLenses(uri: string): Promise<any[]> {
    return this.request('textDocument/codeLens', { textDocument: { uri } });
  }
  symbols(uri: string): Promise<any[]> {
    return this.request('textDocument/documentSymbol', { textDocument: { uri } });
  }
  folding(uri: string): Promise<any[]> {
    return this.request('textDocument/foldingRange', { textDocument: { uri } });
  }
  format(uri: string): Promise<any[]> {
    return this.request('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  }
  semanticTokens(uri: string): Promise<{ data: number[] }> {
    return this.request('textDocument/semanticTokens/full', { textDocument: { uri } });
  }
  definition(uri: string, position: Pos): Promise<any> {
    return this.request('textDocument/definition', { textDocument: { uri }, position });
  }
  prepareRename(uri: string, position: Pos): Promise<any> {
    return this.request('textDocument/prepareRename', { textDocument: { uri }, position });
  }
  rename(uri: string, position: Pos, newName: string): Promise<any> {
    return this.request('textDocument/rename', { textDocument: { uri }, position, newName });
  }
  codeActions(uri: string, range: { start: Pos; end: Pos }, diagnostics: any[]): Promise<any[]> {
    return this.request('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } });
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** Splits a text with one `<|>` marker into the text and the marker's position. */
export function cursor(marked: string): { text: string; position: Pos } {
  const offset = marked.indexOf('<|>');
  if (offset < 0) throw new Error('no <|> marker');
  const text = marked.slice(0, offset) + marked.slice(offset + 3);
  const before = text.slice(0, offset).split('\n');
  return { text, position: { line: before.length - 1, character: before[before.length - 1].length } };
}

/** The position of the n-th (0-based) occurrence of `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0, nth = 0): Pos {
  let at = -1;
  for (let i = 0; i <= nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" not found`);
  }
  const before = text.slice(0, at + delta).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/** Applies LSP text edits to a text. */
export function applyEdits(text: string, edits: { range: { start: Pos; end: Pos }; newText: string }[]): string {
  const lines = text.split('\n');
  const offsetAt = (p: Pos) => {
    let o = 0;
    for (let i = 0; i < p.line && i < lines.length; i++) o += lines[i].length + 1;
    return Math.min(text.length, o + p.character);
  };
  const sorted = [...edits].sort((a, b) => offsetAt(b.range.start) - offsetAt(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, offsetAt(e.range.start)) + e.newText + out.slice(offsetAt(e.range.end));
  return out;
}

/** The text of a range. */
export function textOf(text: string, range: { start: Pos; end: Pos }): string {
  return sliceRange(text, range);
}

function sliceRange(text: string, range: { start: Pos; end: Pos }): string {
  const lines = text.split('\n');
  const offsetAt = (p: Pos) => {
    let o = 0;
    for (let i = 0; i < p.line && i < lines.length; i++) o += lines[i].length + 1;
    return o + p.character;
  };
  return text.slice(offsetAt(range.start), offsetAt(range.end));
}
