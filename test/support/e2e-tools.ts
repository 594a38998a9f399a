/**
 * Where the editor end-to-end tests find their tools: code-server (installed by
 * `scripts/e2e-setup.sh` into a cache folder) and Debian's Chromium. On a machine without them
 * the editor tests skip with the reason; under CI (`CI` set) a missing tool is a failure, so a
 * broken setup can never pass as "skipped".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root (tests run from out/test/<suite>/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface E2eTools {
  /** code-server's `out/node/entry.js`, run with this Node. */
  codeServer: string;
  /** The Chromium binary playwright-core drives. */
  chromium: string;
  /** The code-server version folder, for logs. */
  version: string;
}

/** The cache folder `scripts/e2e-setup.sh` installs into (same defaults and env knobs). */
export function e2eToolsDir(): string {
  return process.env.OPTSTUDY_E2E_TOOLS ?? path.join(os.homedir(), '.cache', 'optstudy-e2e');
}

/** The tools, or why they cannot be used (`missing` names the tool and the command that installs it). */
export function findE2eTools(): { tools?: E2eTools; missing?: string } {
  const version = process.env.CS_VERSION ?? '4.100.3';
  const csDir = path.join(e2eToolsDir(), `code-server-${version}`);
  const codeServer = path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const chromium = process.env.OPTSTUDY_CHROMIUM ?? '/usr/bin/chromium';
  const problems: string[] = [];
  if (!fs.existsSync(path.join(csDir, '.ok')) || !fs.existsSync(codeServer)) {
    problems.push(`code-server ${version} is not installed in ${csDir} (run: bash scripts/e2e-setup.sh)`);
  }
  if (!fs.existsSync(chromium)) problems.push(`Chromium is not at ${chromium} (run: apt-get install chromium, or set OPTSTUDY_CHROMIUM)`);
  for (const m of ['playwright-core', '@vscode/vsce']) {
    if (!fs.existsSync(path.join(ROOT, 'node_modules', m, 'package.json'))) problems.push(`node_modules/${m} is missing (run: npm ci)`);
  }
  if (problems.length) return { missing: problems.join('; ') };
  return { tools: { codeServer, chromium, version } };
}
