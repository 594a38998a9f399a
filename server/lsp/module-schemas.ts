/**
 * Parameter schemas of `strategy module "file.ts"` strategies, so completion, hover and the
 * type checks know a user module's parameters as they know a built-in's. Getting them means
 * running the module's top-level code, so it is done only in a trusted workspace, in a
 * separate V8 context with a time limit, and cached by file and modification time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import type { StrategySchema } from '../../grammar/index';

type Entry = { key: string; schema: StrategySchema | undefined };
const cache = new Map<string, Entry>();

/** Forgets every loaded schema (a watched file changed). */
export function clearModuleSchemas(): void {
  cache.clear();
}

/**
 * A `moduleSchemas` function for `analyze`, resolving paths against the study file's folder.
 * Returns undefined (no schema: the checks stay lenient) when untrusted or on any failure.
 */
export function moduleSchemaLoader(studyFile: string | null, trusted: () => boolean, log?: (message: string) => void): (modulePath: string) => StrategySchema | undefined {
  return (modulePath: string) => {
    if (!studyFile || !trusted()) return undefined;
    const abs = path.resolve(path.dirname(studyFile), modulePath);
    let key: string;
    try {
      const st = fs.statSync(abs);
      // A folder (a path still being typed) is not a module: nothing to load, nothing to log.
      if (!st.isFile()) return undefined;
      key = `${st.mtimeMs}:${st.size}`;
    } catch {
      return undefined;
    }
    const hit = cache.get(abs);
    if (hit && hit.key === key) return hit.schema;
    let schema: StrategySchema | undefined;
    try {
      schema = loadSchema(abs);
    } catch (e) {
      log?.(`optstudy: could not read the parameters of ${abs}: ${(e as Error)?.message ?? String(e)}`);
    }
    cache.set(abs, { key, schema });
    return schema;
  };
}

function loadSchema(abs: string): StrategySchema | undefined {
  // esbuild is a run-time dependency of module strategies (the engine compiles them the same way).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = esbuild.buildSync({ entryPoints: [abs], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent' });
  const code = out.outputFiles[0]?.text ?? '';
  const mod = { exports: {} as Record<string, unknown> };
  const sandbox = { module: mod, exports: mod.exports, require, console: { log() {}, warn() {}, error() {} } };
  // A top-level loop must not freeze the editor's language server.
  vm.runInNewContext(code, sandbox, { filename: abs, timeout: 1000 });
  const exported = (mod.exports.default ?? mod.exports) as Partial<StrategySchema> | undefined;
  if (!exported || !Array.isArray(exported.params)) return undefined;
  const params = exported.params.filter((p) => p && typeof p.name === 'string' && ['int', 'float', 'string', 'bool'].includes(p.type));
  return {
    name: typeof exported.name === 'string' ? exported.name : path.basename(abs).replace(/\.[^.]+$/, ''),
    doc: typeof exported.doc === 'string' ? exported.doc : `Strategy module \`${path.basename(abs)}\`.`,
    params: params.map((p) => ({ name: p.name, type: p.type, default: p.default, doc: typeof p.doc === 'string' ? p.doc : '', choices: p.choices, min: p.min, max: p.max })),
  };
}
