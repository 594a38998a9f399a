/** Helpers for the strategy-process tests: which processes live in a folder, waiting for them. */
import { after } from 'node:test';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tempStudy } from '../support/run-fixtures';

/** Live processes whose working folder is `dir` (Linux /proc), as command lines. */
export function processesIn(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== dir) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie waiting for its parent is not running
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

/** Polls `check` every 25 ms until it returns true or `ms` pass; returns its last answer. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

const made: string[] = [];
after(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** tempStudy, removed when the test file ends (also after a failure). */
export function scratchStudy(files: Record<string, string>): string {
  const dir = tempStudy(files);
  made.push(dir);
  return dir;
}
