/**
 * Running real backtrader (../shared/oracle beside the checkout) from tests: where it is, why a
 * test must skip without it, and a python3 child whose stdout is the answer.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './engine-golden';

export const ORACLE = path.resolve(ROOT, '..', 'shared', 'oracle');

/** Why an oracle test cannot run here, or false when it can. */
export function oracleSkipReason(): string | false {
  if (!existsSync(path.join(ORACLE, 'oracle.py'))) return `no backtrader oracle at ${ORACLE} (../shared/oracle beside the checkout)`;
  const py = spawnSync('python3', ['-c', 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)']);
  if (py.status !== 0) return 'python3 (3.8 or newer) is not available';
  return false;
}

/** Runs python3 with args; resolves its stdout, rejects with the end of its stderr. */
export function python(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`python3 ${args.slice(0, 2).join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}
