/**
 * Checks that need the file system: the data files and the strategy module of a study must
 * stay inside the study's folder (or the workspace, when given) — also after following
 * symbolic links —, be regular readable files, and the data files must load: what the loader
 * would refuse at `run` (bad prices, unreadable columns, an empty range) is reported on the
 * `data` line with the file's line and column. Shared by `optstudy check`, `optstudy run`
 * (paths only) and the language server; the grammar itself stays pure.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { IssueCodes, type DataFeedModel, type Diagnostic, type Range, type StudyModel } from '../grammar/index';
import { describeKind, loadOptions, MAX_PRICE_FILE_BYTES } from './data';
import { inspectPriceFile } from './data/inspect';

export interface WorkspaceCheckOptions {
  /**
   * The folder paths may not escape (default: the study file's folder). A language server
   * passes its workspace folder, so `../data/x.txt` is fine inside a workspace.
   */
  workspaceRoot?: string;
  /** Also load each data file and report what the loader finds (default true). */
  contents?: boolean;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Resolves a path written in a study (relative to the study file's folder). */
export function resolveStudyPath(studyFile: string, written: string): string {
  return path.resolve(path.dirname(path.resolve(studyFile)), written);
}

/** The data files of a study with where each is written. */
function dataEntries(study: StudyModel): (DataFeedModel & { range: Range })[] {
  const feeds = study.datas ?? (study.data ? [study.data] : []);
  return feeds.map((d, i) => ({ ...d, range: study.ranges?.datas?.[i] ?? (i === 0 ? study.ranges?.data : undefined) ?? study.range }));
}

/** File-system findings about one study. Never throws. */
export function checkWorkspace(study: StudyModel, studyFile: string, options: WorkspaceCheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const root = path.resolve(options.workspaceRoot ?? path.dirname(path.resolve(studyFile)));
  const where = options.workspaceRoot ? 'the workspace' : "the study file's folder";
  try {
    for (const d of dataEntries(study)) {
      const abs = checkPath(d.path, d.range, 'data', studyFile, root, where, out);
      if (abs && options.contents !== false) out.push(...checkContents(d, abs, d.range));
    }
    if (study.strategy?.kind === 'module' && study.strategy.module) checkPath(study.strategy.module, study.ranges?.module ?? study.range, 'module', studyFile, root, where, out);
  } catch (e) {
    out.push({ severity: 'error', code: 'internal-error', message: `could not check the files of this study: ${e instanceof Error ? e.message : String(e)}`, range: study.range });
  }
  return out;
}

/** The path's findings (pushed to `out`); the absolute path when the file can be read. */
function checkPath(written: string, range: Range, what: 'data' | 'module', studyFile: string, root: string, where: string, out: Diagnostic[]): string | null {
  if (written.trim() === '') return null; // the grammar reports empty paths
  const noun = what === 'data' ? 'the data file' : 'the strategy module';
  const abs = resolveStudyPath(studyFile, written);
  const report = (code: string, message: string, data?: unknown): null => {
    out.push({ severity: 'error', code, message, range, ...(data ? { data } : {}) });
    return null;
  };
  if (!isInside(abs, root)) {
    return report(IssueCodes.PathOutsideWorkspace, `${JSON.stringify(written)} is outside ${where} (${root}): keep ${what === 'data' ? 'data files' : 'strategy modules'} beside the study`);
  }
  let real: string | null = null;
  try {
    real = fs.realpathSync(abs);
  } catch {
    // Missing (or a dangling link): reported below.
  }
  if (real !== null && !isInside(real, realRoot(root))) {
    return report(IssueCodes.PathOutsideWorkspace, `${JSON.stringify(written)} is a link to a place outside ${where}: copy the file into the folder instead of linking to it`);
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    return report(
      what === 'data' ? IssueCodes.DataFileMissing : IssueCodes.ModuleFileMissing,
      `${noun} ${JSON.stringify(written)} does not exist (looked for ${abs}; paths are relative to the study file)`,
      { path: abs },
    );
  }
  const unreadable = what === 'data' ? IssueCodes.DataFileUnreadable : IssueCodes.ModuleFileMissing;
  if (!stat.isFile()) return report(unreadable, `${JSON.stringify(written)} is ${describeKind(stat)}, not a regular file`);
  if (what === 'data' && stat.size > MAX_PRICE_FILE_BYTES) {
    return report(unreadable, `${JSON.stringify(written)} is ${Math.round(stat.size / 2 ** 20)} MB; price files up to ${MAX_PRICE_FILE_BYTES / 2 ** 20} MB are read`);
  }
  try {
    fs.accessSync(abs, fs.constants.R_OK);
  } catch (e) {
    return report(unreadable, `${JSON.stringify(written)} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return abs;
}

function realRoot(root: string): string {
  try {
    return fs.realpathSync(root);
  } catch {
    return root;
  }
}

/** The loader's verdict on a data file, on the `data` line (its messages name the file as written). */
function checkContents(d: DataFeedModel, abs: string, range: Range): Diagnostic[] {
  // Reversed dates are the grammar's date-order finding already: read the file whole then, so one mistake is one finding.
  const r = inspectPriceFile(abs, d.from && d.to && d.from > d.to ? {} : { from: d.from, to: d.to }, loadOptions(d));
  const named = (m: string): string => m.split(abs).join(d.path);
  if (!r.ok) return [{ severity: 'error', code: IssueCodes.DataFileInvalid, message: named(r.message), range, data: { line: r.line, column: r.column } }];
  return r.summary.warnings.map((w) => ({ severity: 'warning' as const, code: IssueCodes.DataWarning, message: named(w), range }));
}

/**
 * What the hover over a data path says: the file's bar count, first and last bar and spacing
 * (within the study's range, read as the study says), or null when the file cannot be read
 * or lies outside the study's folder (the diagnostics say why). Cached per file version.
 */
export function describeDataFile(study: StudyModel, studyFile: string, index: number): string | null {
  const feed = dataEntries(study)[index];
  if (!feed) return null;
  const findings: Diagnostic[] = [];
  const abs = checkPath(feed.path, feed.range, 'data', studyFile, path.dirname(path.resolve(studyFile)), "the study file's folder", findings);
  if (!abs) return null;
  const r = inspectPriceFile(abs, { from: feed.from, to: feed.to }, loadOptions(feed));
  if (!r.ok) return null;
  const s = r.summary;
  const role = study.basket ? 'basket symbol' : study.datas.length > 1 ? `data ${index}` : 'price data';
  const warn = s.warnings.length ? `\n\n${s.warnings.length} warning${s.warnings.length === 1 ? '' : 's'} (see the diagnostics)` : '';
  return `**${path.basename(feed.path)}** — ${role}\n\n${s.bars.toLocaleString('en-US')} ${s.spacingText} bars, ${s.first} … ${s.last}${warn}`;
}
