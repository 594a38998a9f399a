/**
 * Helpers for loader tests: a temporary folder (removed when the test process exits) to write
 * price files into, and the PriceDataError a call throws.
 */
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PriceDataError } from '../../server/data';
import { tempFolder } from './temp';

/** A fresh temporary folder and a function writing `name` in it (returns the path). */
export function priceFolder(prefix: string): { dir: string; file: (name: string, content: string | Buffer) => string } {
  const dir = tempFolder(`optstudy-${prefix}-`);
  return {
    dir,
    file: (name, content) => {
      const p = path.join(dir, name);
      writeFileSync(p, content);
      return p;
    },
  };
}

/** The PriceDataError `f` throws (fails the test when it throws nothing or something else). */
export function errorOf(f: () => unknown): PriceDataError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof PriceDataError, `expected a PriceDataError, got ${String(e)}`);
    return e;
  }
  assert.fail('no error');
}
