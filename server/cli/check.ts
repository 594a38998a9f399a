import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, type Diagnostic } from '../../grammar/index';
import { checkWorkspace } from '../workspace-checks';
import { backtraderSchemaLoader } from '../strategies/backtrader/describe';
import type { Command } from './main';

const USAGE = `Usage: optstudy check FILE [--json]

Checks a .optstudy file: syntax, names, domains, search settings, data and module files.
Prints one line per finding (file:line:col: severity code: message) and each study's size
(the number of backtests per stage). With --json, prints
{"diagnostics":[…],"studies":[{"name":…,"stages":[{"name":…,"size":N}],"total":N}]}.
Exit status: 0 without errors, 1 with errors, 2 when the file cannot be read.
`;

/** Orders findings by position (then severity) so output is stable. */
function byPosition(a: Diagnostic, b: Diagnostic): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.code.localeCompare(b.code);
}

/** `optstudy check FILE [--json]`. */
export const checkCommand: Command = async (args, io) => {
  let json = false;
  let file: string | undefined;
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') {
      io.out(USAGE);
      return 0;
    } else if (a.startsWith('-')) {
      io.err(`optstudy check: unknown option '${a}'.\n\n${USAGE}`);
      return 2;
    } else if (file === undefined) file = a;
    else {
      io.err(`optstudy check: one FILE at a time (got '${file}' and '${a}').\n\n${USAGE}`);
      return 2;
    }
  }
  if (file === undefined) {
    io.err(`optstudy check: which file? Give the path of a .optstudy file.\n\n${USAGE}`);
    return 2;
  }
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) {
      io.err(`optstudy check: '${file}' is a folder; give the path of a .optstudy file.\n`);
      return 2;
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
    io.err(`optstudy check: cannot read '${file}': ${why}.\n`);
    return 2;
  }

  // The CLI is the user's own shell: a backtrader strategy is described by its bridge (Python).
  const analysis = analyze(text, { backtraderSchemas: backtraderSchemaLoader(file) });
  const diagnostics = [...analysis.diagnostics];
  for (const s of analysis.studies) diagnostics.push(...checkWorkspace(s, file));
  diagnostics.sort(byPosition);
  const hasError = diagnostics.some((d) => d.severity === 'error');
  const studies = analysis.studies.map((s) => ({
    name: s.name,
    stages: s.stages.map((st) => ({ name: st.name, size: st.size })),
    total: s.total,
  }));

  if (json) {
    io.out(
      JSON.stringify({
        diagnostics: diagnostics.map((d) => ({ severity: d.severity, code: d.code, message: d.message, range: d.range })),
        studies,
      }) + '\n',
    );
    return hasError ? 1 : 0;
  }

  const shown = path.relative(process.cwd(), path.resolve(file)) || file;
  let out = '';
  for (const d of diagnostics) out += `${shown}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} ${d.code}: ${d.message}\n`;
  for (const s of analysis.studies) {
    const stages = s.stages
      .map((st) => `"${st.name}" ${st.sizeExact ? '' : '~'}${st.size.toLocaleString('en-US')} (${st.search.method})`)
      .join(', ');
    out += `study "${s.name}": ${s.totalExact ? '' : '~'}${s.total.toLocaleString('en-US')} backtest${s.total === 1 ? '' : 's'}${stages ? ` — ${stages}` : ''}\n`;
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  out += `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}\n`;
  io.out(out);
  return hasError ? 1 : 0;
};
