/**
 * What a `strategy NAME backtrader "SPEC"` declares, asked of the bridge
 * (`optstudy_bridge.py describe SPEC`, in the study's folder): the parameters of the factory
 * and of its strategy class (from the class's `params`), the user's analyzers, or why SPEC
 * cannot be loaded ("'mystrats.py' has no 'SmaCros' (did you mean 'SmaCross'?)"). This runs
 * user code: callers ask only for trusted workspaces. Answers are cached per SPEC, folder and
 * file modification time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import type { BacktraderDescription, ParamSchema, ParamType, StrategySchema } from '../../../grammar';
import { bridgePath, pythonCommand } from './bridge-path';
import { killGroup, trackGroup } from '../process-groups';
import { prestartAndDescribe, prestartBridges } from './prestart';
import { stopIdle } from './bridge-pool';

/** A describe step that takes longer is given up (a factory that loops, a slow import). */
export const DESCRIBE_TIMEOUT_MS = 20_000;

const cache = new Map<string, { stamp: string; value: BacktraderDescription | undefined }>();

/** The file SPEC names (for the cache stamp), when it is a file. */
function specFile(spec: string, cwd: string): string | undefined {
  const where = spec.slice(0, spec.lastIndexOf(':'));
  return where.endsWith('.py') || where.includes('/') ? path.resolve(cwd, where) : undefined;
}

function stampOf(spec: string, cwd: string): string {
  const file = specFile(spec, cwd);
  try {
    const st = file ? statSync(file) : undefined;
    return st ? `${st.mtimeMs}:${st.size}` : 'module';
  } catch {
    return 'missing';
  }
}

/** The bridge's JSON answer as the language's description; undefined when it says nothing usable. */
export function readDescription(stdout: string): BacktraderDescription | undefined {
  let raw: { error?: string; kind?: string; strategy?: string | null; doc?: string; params?: { name: string; type: string; default?: unknown; doc?: string }[]; analyzers?: string[]; complete?: boolean };
  try {
    raw = JSON.parse(stdout.trim().split('\n').pop() ?? '') as typeof raw;
  } catch {
    return undefined;
  }
  // Without backtrader there is nothing to check against: a warning says so (not an error:
  // the study may run where backtrader is installed, e.g. on Redis workers).
  if (typeof raw.error === 'string') return /backtrader is not importable/.test(raw.error) ? { unavailable: raw.error } : { error: raw.error };
  const types = new Set(['int', 'float', 'string', 'bool']);
  const params: ParamSchema[] = (raw.params ?? [])
    .filter((p) => typeof p.name === 'string' && types.has(p.type))
    .map((p) => ({ name: p.name, type: p.type as ParamType, default: (p.default ?? null) as ParamSchema['default'], doc: p.doc ?? '' }));
  const schema: StrategySchema = { name: raw.strategy ?? 'backtrader', doc: raw.doc ?? '', params, ...(raw.analyzers ? { analyzers: raw.analyzers } : {}) };
  return { schema, complete: raw.complete !== false };
}

/**
 * Describes SPEC synchronously (the CLI's `check`, a run's own check). `prestart` (a run): that
 * many bridge processes start now for the run's workers, the first describing SPEC itself
 * (prestart.ts).
 */
export function describeBacktraderSync(spec: string, cwd: string, options: { prestart?: number } = {}): BacktraderDescription | undefined {
  const key = `${cwd}\0${spec}`;
  const stamp = stampOf(spec, cwd);
  const hit = cache.get(key);
  const prestart = options.prestart ?? 0;
  if (hit && hit.stamp === stamp) {
    if (prestart > 0) prestartBridges(spec, cwd, prestart);
    return hit.value;
  }
  // Not described yet, or its script changed: processes kept from an earlier run run the old one.
  stopIdle(spec, cwd);
  const told = prestart > 0 ? prestartAndDescribe(spec, cwd, prestart, DESCRIBE_TIMEOUT_MS) : undefined;
  if (told !== undefined) {
    const value = readDescription(told);
    cache.set(key, { stamp, value });
    return value;
  }
  let bridge: string;
  try {
    bridge = bridgePath();
  } catch {
    return undefined;
  }
  const r = spawnSync(pythonCommand(), [bridge, 'describe', spec], { cwd, encoding: 'utf8', timeout: DESCRIBE_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 4 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const value = r.error || r.status !== 0 ? undefined : readDescription(r.stdout);
  cache.set(key, { stamp, value });
  return value;
}

/** Describes SPEC without blocking (the language server); the same cache. */
export async function describeBacktrader(spec: string, cwd: string): Promise<BacktraderDescription | undefined> {
  const key = `${cwd}\0${spec}`;
  const stamp = stampOf(spec, cwd);
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp) return hit.value;
  const out = await askBridge(['describe', spec], cwd);
  // A Python that cannot start answers "nothing" once per stamp (no re-ask loop in the server).
  const value = out === undefined ? undefined : readDescription(out);
  cache.set(key, { stamp, value });
  return value;
}

/** A Strategy class or function a backtrader file defines: what may follow `FILE.py:`. */
export interface BacktraderName {
  name: string;
  kind: 'strategy' | 'function';
  doc: string;
  /** `bt.Strategy (pfast, pslow)` or the function's signature. */
  detail: string;
  /** The whole docstring (clipped). */
  fullDoc?: string;
  /** A Strategy class's parameters, each default as Python writes it. */
  params?: { name: string; default: string }[];
}

const nameCache = new Map<string, { stamp: string; value: BacktraderName[] | undefined }>();

/** The classes and functions FILE (or a dotted module) defines, asked of the bridge; cached per file version. */
export async function listBacktraderNames(where: string, cwd: string): Promise<BacktraderName[] | undefined> {
  const key = `${cwd}\0${where}`;
  const stamp = stampOf(`${where}:x`, cwd);
  const hit = nameCache.get(key);
  if (hit && hit.stamp === stamp) return hit.value;
  const out = await askBridge(['names', where], cwd);
  let value: BacktraderName[] | undefined;
  try {
    const raw = JSON.parse(out?.trim().split('\n').pop() ?? '') as { names?: BacktraderName[] };
    value = Array.isArray(raw.names) ? raw.names.filter((n) => typeof n.name === 'string') : undefined;
  } catch {
    value = undefined;
  }
  nameCache.set(key, { stamp, value });
  return value;
}

/** Runs `optstudy_bridge.py ARGS` in CWD (its own process group, time-limited): its stdout, or undefined when it fails. */
function askBridge(args: string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let out = '';
    let child;
    try {
      child = spawn(pythonCommand(), [bridgePath(), ...args], { cwd, detached: process.platform !== 'win32', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return resolve(undefined);
    }
    trackGroup(child);
    const timer = setTimeout(() => killGroup(child), DESCRIBE_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => (out.length < 4 << 20 ? (out += c) : undefined));
    child.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    // 'close': the process ended and its output is all read.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? out : undefined);
    });
  });
}

/**
 * A `backtraderSchemas` function for `analyze`, for studies in `studyFile`'s folder. `prestart`
 * (a run's checks): that many bridge processes start for the run's workers while SPEC is
 * described (prestart.ts).
 */
export function backtraderSchemaLoader(studyFile: string, options: { prestart?: number } = {}): (spec: string) => BacktraderDescription | undefined {
  const cwd = path.dirname(path.resolve(studyFile));
  return (spec) => {
    const description = describeBacktraderSync(spec, cwd, options);
    if (options.prestart && (description === undefined || 'error' in description || 'unavailable' in description)) stopIdle(spec, cwd);
    return description;
  };
}

/**
 * Descriptions for the language server: `loader` answers from the cache at once (undefined while
 * the bridge is asked, so the checks stay lenient) and asks in the background; `onSettled` tells
 * the server to analyze again when an answer arrives. Trusted workspaces only.
 */
export class BacktraderDescriber {
  private readonly asked = new Map<string, Promise<unknown>>();

  constructor(private readonly onSettled: () => void) {}

  /** The describe steps running for these SPECs of `studyFile` (awaited before answering a request). */
  pending(studyFile: string | null, specs: readonly string[]): Promise<unknown>[] {
    if (!studyFile) return [];
    const cwd = path.dirname(path.resolve(studyFile));
    return specs.map((spec) => this.asked.get(`${cwd}\0${spec}`)).filter((p): p is Promise<unknown> => !!p);
  }

  loader(studyFile: string | null, trusted: () => boolean): (spec: string) => BacktraderDescription | undefined {
    return (spec) => {
      if (!studyFile || !trusted()) return undefined;
      const cwd = path.dirname(path.resolve(studyFile));
      const key = `${cwd}\0${spec}`;
      const hit = cache.get(key);
      if (hit && hit.stamp === stampOf(spec, cwd)) return hit.value;
      if (!this.asked.has(key)) {
        const asking = describeBacktrader(spec, cwd).finally(() => {
          this.asked.delete(key);
          this.onSettled();
        });
        this.asked.set(key, asking);
      }
      return undefined;
    };
  }
}
