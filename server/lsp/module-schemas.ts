/**
 * Parameter schemas of `strategy module "file.ts"` strategies, so completion, hover and the
 * type checks know a user module's parameters as they know a built-in's. Getting them means
 * running the module's top-level code, so it is done only in a trusted workspace and never on
 * the language server's thread: esbuild compiles the module (in its own process), and a child
 * process (read-module-params.ts) runs it under a hard time and memory limit. A module that
 * loops, sleeps or allocates without end costs the editor nothing but that child.
 *
 * Reads are asynchronous. While one runs, the module's schema is unknown (the checks stay
 * lenient); `pending()` lets a request wait for the answer, and `onSettled` tells the server to
 * analyze again. Results are kept per file, modification time and size.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ParamType, StrategySchema } from '../../grammar/index';

export interface ModuleReadLimits {
  /** Wall time for the child process, start to answer. */
  timeoutMs: number;
  /** Resident memory of the child process (its JavaScript heap is capped below this). */
  memoryMb: number;
}

/** Limits from the environment (`OPTSTUDY_MODULE_READ_TIMEOUT_MS`, `…_MEMORY_MB`), else 5 s and 256 MB. */
export function defaultLimits(env: NodeJS.ProcessEnv = process.env): ModuleReadLimits {
  const num = (v: string | undefined, d: number) => (v !== undefined && Number(v) > 0 ? Number(v) : d);
  return { timeoutMs: num(env['OPTSTUDY_MODULE_READ_TIMEOUT_MS'], 5000), memoryMb: num(env['OPTSTUDY_MODULE_READ_MEMORY_MB'], 256) };
}

interface Outcome {
  schema?: StrategySchema;
  /** Why the parameters could not be read (shown to the user as a diagnostic). */
  problem?: string;
}

interface Entry extends Outcome {
  key: string;
  done: boolean;
  settled: Promise<void>;
}

/** Reads run two at a time: a study naming many modules must not fork a process per module at once. */
const MAX_CONCURRENT = 2;
/** The answer line is small; anything longer is not a parameter list. */
const MAX_ANSWER_BYTES = 1 << 20;

export class ModuleSchemaReader {
  private readonly entries = new Map<string, Entry>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly options: {
      /** The built child script (dist/read-module-params.js). */
      script: string;
      limits?: ModuleReadLimits;
      /** Called when a read ends: analyses made while it ran are out of date. */
      onSettled?: () => void;
      log?: (message: string) => void;
    },
  ) {}

  /**
   * A `moduleSchemas` function for `analyze`, resolving paths against the study file's folder.
   * Returns undefined (no schema: the checks stay lenient) when untrusted, while a read runs,
   * or when the module could not be read.
   */
  loader(studyFile: string | null, trusted: () => boolean, root?: () => string | undefined): (modulePath: string) => StrategySchema | undefined {
    return (modulePath: string) => (trusted() ? this.entry(studyFile, modulePath, root?.())?.schema : undefined);
  }

  /** Why the module's parameters could not be read, when they could not (trusted workspaces only). */
  problem(studyFile: string | null, modulePath: string, root?: string): string | undefined {
    return this.entry(studyFile, modulePath, root)?.problem;
  }

  /** The reads still running for these modules of a study file (empty when all are known). */
  pending(studyFile: string | null, modulePaths: Iterable<string>, root?: string): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (const m of modulePaths) {
      const e = this.entry(studyFile, m, root);
      if (e && !e.done) out.push(e.settled);
    }
    return out;
  }

  /** Forgets the finished reads (a watched source file changed: a module's imports may differ). */
  clear(): void {
    for (const [k, e] of this.entries) if (e.done) this.entries.delete(k);
  }

  /**
   * The entry for a module, starting a read when there is none for its current version. Only a
   * module inside `root` (default: the study's folder) is run, as the workspace checks require.
   */
  private entry(studyFile: string | null, modulePath: string, root?: string): Entry | undefined {
    if (!studyFile) return undefined;
    const abs = path.resolve(path.dirname(studyFile), modulePath);
    let key: string;
    try {
      if (!isInside(fs.realpathSync(abs), fs.realpathSync(root ?? path.dirname(studyFile)))) return undefined;
      const st = fs.statSync(abs);
      // A folder (a path still being typed) is not a module: nothing to read, nothing to say.
      if (!st.isFile()) return undefined;
      key = `${st.mtimeMs}:${st.size}`;
    } catch {
      return undefined;
    }
    const hit = this.entries.get(abs);
    if (hit && hit.key === key) return hit;
    const entry: Entry = { key, done: false, settled: Promise.resolve() };
    entry.settled = this.read(abs).then((o) => {
      entry.schema = o.schema;
      entry.problem = o.problem;
      entry.done = true;
      if (o.problem) this.options.log?.(`optstudy: could not read the parameters of ${abs}: ${o.problem}`);
    });
    this.entries.set(abs, entry);
    void entry.settled.finally(() => {
      if (this.entries.get(abs) === entry) this.options.onSettled?.();
    });
    return entry;
  }

  private async read(abs: string): Promise<Outcome> {
    await new Promise<void>((go) => (this.running < MAX_CONCURRENT ? go() : this.waiting.push(go)));
    this.running++;
    try {
      const compiled = await compile(abs);
      if ('problem' in compiled) return { problem: compiled.problem };
      return await runChild(this.options.script, abs, compiled.code, this.options.limits ?? defaultLimits());
    } catch (e) {
      return { problem: `reading it failed: ${(e as Error)?.message ?? String(e)}` };
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/** Compiles the module to one CommonJS text with esbuild (which runs none of the user's code). */
async function compile(abs: string): Promise<{ code: string } | { problem: string }> {
  // esbuild is a run-time dependency of module strategies (the engine compiles them the same way).
  const esbuild = await import('esbuild');
  try {
    const out = await esbuild.build({ entryPoints: [abs], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent' });
    return { code: out.outputFiles[0]?.text ?? '' };
  } catch (e) {
    const first = ((e as { errors?: { text: string; location?: { line: number; column: number } | null }[] }).errors ?? [])[0];
    const where = first?.location ? ` (line ${first.location.line}, column ${first.location.column + 1})` : '';
    return { problem: `it does not compile${where}: ${clip(first?.text ?? (e as Error).message)}` };
  }
}

/** Runs the compiled module in a child process under `limits`; the child's whole process group ends with it. */
function runChild(script: string, abs: string, code: string, limits: ModuleReadLimits): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const heapMb = Math.max(16, Math.floor(limits.memoryMb * 0.75));
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, script, abs], {
      cwd: path.dirname(abs),
      // Own process group (so everything the module starts is killed with it); no stdout at all.
      detached: true,
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, OPTSTUDY_READ_LIMIT_MS: String(limits.timeoutMs), OPTSTUDY_READ_LIMIT_MB: String(limits.memoryMb) },
    });
    let answer = '';
    let stderr = '';
    let over: 'time' | 'output' | undefined;
    let finished = false;
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const finish = (o: Outcome) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      kill();
      resolve(o);
    };
    const timer = setTimeout(() => {
      over = 'time';
      kill();
    }, limits.timeoutMs);
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(code);
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += String(d);
    });
    const out = child.stdio[3] as NodeJS.ReadableStream;
    out.on('data', (d: Buffer) => {
      answer += String(d);
      if (answer.length > MAX_ANSWER_BYTES) {
        over = 'output';
        kill();
        return;
      }
      const nl = answer.indexOf('\n');
      if (nl >= 0) finish(parseAnswer(answer.slice(0, nl), abs));
    });
    child.on('error', (e) => finish({ problem: `its reader process could not start: ${e.message}` }));
    child.on('close', (exitCode, signal) => {
      if (finished) return;
      const secs = (limits.timeoutMs / 1000).toLocaleString('en-US');
      if (over === 'time' || /limit: time/.test(stderr) || Date.now() - started >= limits.timeoutMs)
        return finish({ problem: `loading it ran for more than ${secs} s and was stopped (a loop in its top-level code?). Its parameters are not checked.` });
      if (over === 'output') return finish({ problem: 'it wrote more than 1 MB of parameters and was stopped.' });
      if (/limit: memory|heap out of memory|Allocation failed/i.test(stderr))
        return finish({ problem: `loading it used more than ${limits.memoryMb} MB of memory and was stopped. Its parameters are not checked.` });
      finish({ problem: `loading it ended the process (${signal ?? `exit code ${exitCode}`}) before its parameters were read.` });
    });
  });
}

const TYPES: readonly ParamType[] = ['int', 'float', 'string', 'bool'];

/** The child's answer, validated: only well-formed parameters reach the checks. */
function parseAnswer(line: string, abs: string): Outcome {
  let a: { ok?: boolean; error?: unknown; schema?: { name?: unknown; doc?: unknown; params?: unknown } | null };
  try {
    a = JSON.parse(line);
  } catch {
    return { problem: 'its reader gave no readable answer.' };
  }
  if (!a.ok) return { problem: `loading it threw ${clip(String(a.error ?? 'an error'))}. Its parameters are not checked.` };
  if (!a.schema || !Array.isArray(a.schema.params)) return {};
  const str = (v: unknown, max: number) => (typeof v === 'string' ? clip(v, max) : undefined);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const params = (a.schema.params as Record<string, unknown>[])
    .filter((p) => p && typeof p['name'] === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(p['name'] as string) && TYPES.includes(p['type'] as ParamType))
    .map((p) => {
      const type = p['type'] as ParamType;
      const d = p['default'];
      const fallback = type === 'string' ? '' : type === 'bool' ? false : 0;
      const def = type === 'string' ? (typeof d === 'string' ? clip(d, 200) : fallback) : type === 'bool' ? (typeof d === 'boolean' ? d : fallback) : (num(d) ?? fallback);
      const choices = Array.isArray(p['choices']) ? (p['choices'] as unknown[]).filter((c): c is string => typeof c === 'string').slice(0, 100).map((c) => clip(c, 100)) : undefined;
      return { name: p['name'] as string, type, default: def, doc: str(p['doc'], 1000) ?? '', choices, min: num(p['min']), max: num(p['max']) };
    });
  return {
    schema: {
      name: str(a.schema.name, 100) ?? path.basename(abs).replace(/\.[^.]+$/, ''),
      doc: str(a.schema.doc, 2000) ?? `Strategy module \`${path.basename(abs)}\`.`,
      params,
    },
  };
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function clip(s: string, max = 300): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
