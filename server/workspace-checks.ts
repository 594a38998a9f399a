/**
 * Checks that need the file system: the data file and the strategy module of a study must
 * exist and be readable, and stay inside the study's folder (or the workspace, when given).
 * Shared by `optstudy check` and the language server; the grammar itself stays pure.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { IssueCodes, type Diagnostic, type Range, type StudyModel } from '../grammar/index';

export interface WorkspaceCheckOptions {
  /**
   * The folder paths may not escape (default: the study file's folder). A language server
   * passes its workspace folder, so `../data/x.txt` is fine inside a workspace.
   */
  workspaceRoot?: string;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Resolves a path written in a study (relative to the study file's folder). */
export function resolveStudyPath(studyFile: string, written: string): string {
  return path.resolve(path.dirname(path.resolve(studyFile)), written);
}

/** File-system findings about one study. Never throws. */
export function checkWorkspace(study: StudyModel, studyFile: string, options: WorkspaceCheckOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const root = path.resolve(options.workspaceRoot ?? path.dirname(path.resolve(studyFile)));
  const fallback: Range = study.range;

  const checkPath = (written: string, range: Range, what: 'data' | 'module'): void => {
    if (written.trim() === '') return; // the grammar reports empty paths
    const abs = resolveStudyPath(studyFile, written);
    let real = abs;
    try {
      real = fs.realpathSync(abs);
    } catch {
      // Missing: reported below; compare the unresolved path.
    }
    let realRoot = root;
    try {
      realRoot = fs.realpathSync(root);
    } catch {
      /* keep root */
    }
    if (!isInside(real, realRoot) && !isInside(abs, root)) {
      out.push({
        severity: 'error',
        code: IssueCodes.PathOutsideWorkspace,
        message: `${JSON.stringify(written)} is outside ${options.workspaceRoot ? 'the workspace' : "the study file's folder"} (${root}): keep ${what === 'data' ? 'data files' : 'strategy modules'} beside the study`,
        range,
      });
      return;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(abs);
    } catch {
      out.push({
        severity: 'error',
        code: what === 'data' ? IssueCodes.DataFileMissing : IssueCodes.ModuleFileMissing,
        message: `${what === 'data' ? 'the data file' : 'the strategy module'} ${JSON.stringify(written)} does not exist (looked for ${abs}; paths are relative to the study file)`,
        range,
        data: { path: abs },
      });
      return;
    }
    if (!stat.isFile()) {
      out.push({
        severity: 'error',
        code: what === 'data' ? IssueCodes.DataFileUnreadable : IssueCodes.ModuleFileMissing,
        message: `${JSON.stringify(written)} is a folder, not a file`,
        range,
      });
      return;
    }
    try {
      fs.accessSync(abs, fs.constants.R_OK);
    } catch (e) {
      out.push({
        severity: 'error',
        code: what === 'data' ? IssueCodes.DataFileUnreadable : IssueCodes.ModuleFileMissing,
        message: `${JSON.stringify(written)} cannot be read: ${e instanceof Error ? e.message : String(e)}`,
        range,
      });
    }
  };

  try {
    if (study.data) checkPath(study.data.path, study.ranges?.data ?? fallback, 'data');
    if (study.strategy?.kind === 'module' && study.strategy.module) checkPath(study.strategy.module, study.ranges?.module ?? fallback, 'module');
  } catch (e) {
    out.push({ severity: 'error', code: 'internal-error', message: `could not check the files of this study: ${e instanceof Error ? e.message : String(e)}`, range: fallback });
  }
  return out;
}
