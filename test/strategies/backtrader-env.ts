/**
 * Real backtrader for the tests: `../shared/oracle` beside the repository when it exists (CI),
 * else an installed `backtrader`. Without either, tests that need it skip with the reason (CI
 * runs with OPTSTUDY_FAIL_ON_SKIP=1, which turns a skip into a failure).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/run-fixtures';

/** undefined when backtrader is importable (PYTHONPATH set for this process and its children), else why not. */
export function backtraderMissing(): string | undefined {
  // The fixture scripts find the sample prices here, also when copied into a study folder.
  process.env.OPTSTUDY_SAMPLE_DATA ??= path.join(repoRoot(), 'samples', 'data');
  const oracle = path.resolve(repoRoot(), '..', 'shared', 'oracle');
  if (existsSync(path.join(oracle, 'backtrader', '__init__.py'))) {
    process.env.PYTHONPATH = [oracle, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
    return undefined;
  }
  const r = spawnSync(process.env.OPTSTUDY_PYTHON || 'python3', ['-c', 'import backtrader'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return `real backtrader is not available: no ${oracle}/backtrader and \`${process.env.OPTSTUDY_PYTHON || 'python3'} -c "import backtrader"\` fails`;
}

/** The parity fixtures (test/fixtures/backtrader/parity.py and its data). */
export function fixture(name: string): string {
  return path.join(repoRoot(), 'test', 'fixtures', 'backtrader', name);
}

/**
 * One row per combination of `cerebro.optstrategy` over `grid`, run by backtrader itself.
 * `factory`: one of parity.py's, or `path/to/script.py:FACTORY`, called with `fixed` (e.g. a
 * sizer's parameter) before its strategy is optimized.
 */
export function optstrategy(
  factory: string,
  grid: Record<string, unknown[]>,
  fixed: Record<string, unknown> = {},
): { params: Record<string, unknown>; metrics: Record<string, number | null> }[] {
  const r = spawnSync(process.env.OPTSTUDY_PYTHON || 'python3', [fixture('parity.py'), 'optstrategy', factory, JSON.stringify(grid), JSON.stringify(fixed)], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`optstrategy ${factory} failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { params: Record<string, unknown>; metrics: Record<string, number | null> });
}
