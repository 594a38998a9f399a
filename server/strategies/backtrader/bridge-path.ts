/** Where the shipped backtrader bridge is, and which Python runs it (no engine code: the language server imports this). */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const BRIDGE_FILE = 'optstudy_bridge.py';

/**
 * The bridge script: beside the bundle (`dist/backtrader/`, where the build copies it and the
 * .vsix ships it), else in the source tree (tests and development).
 */
export function bridgePath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    for (const p of [path.join(dir, 'backtrader', BRIDGE_FILE), path.join(dir, 'dist', 'backtrader', BRIDGE_FILE), path.join(dir, 'server', 'strategies', 'backtrader', BRIDGE_FILE)])
      if (existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new Error(`the backtrader bridge (${BRIDGE_FILE}) is missing from this installation`);
}

/** The Python that runs the bridge: `OPTSTUDY_PYTHON`, else `python3` (it must import backtrader). */
export function pythonCommand(): string {
  return process.env.OPTSTUDY_PYTHON || 'python3';
}

