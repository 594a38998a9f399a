/**
 * Temporary folders for tests, removed when the test process exits — also when a test fails
 * or throws midway — so a run leaves nothing in the temp directory (scripts/test.mjs fails a
 * run that does). node --test runs every test file in its own process, so "at exit" is the
 * end of the file's tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];
let hooked = false;

/** A new folder `<tmp>/<prefix>XXXXXX`, removed with everything in it when the process exits. */
export function tempFolder(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.once('exit', removeTempFolders);
  }
  return dir;
}

/** Removes every folder tempFolder made so far (also called at exit). */
export function removeTempFolders(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
