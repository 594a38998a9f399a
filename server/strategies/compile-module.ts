/**
 * Compiles a user strategy module (`strategy module "strategies/breakout.ts"`, TypeScript or
 * JavaScript) into one CommonJS file with esbuild, so worker threads can `require` it. The
 * output is stored under its content hash: every worker loads the same file, and an unchanged
 * module is not written again. esbuild is loaded only here, when a study uses a module.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A compile error with its place in the user's source (1-based line and column). */
export class ModuleCompileError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${file}:${line}:${column}: ${message}`);
    this.name = 'ModuleCompileError';
  }
}

export interface CompiledModule {
  /** The compiled CommonJS file, absolute. */
  file: string;
  /** sha256 of the compiled code. */
  hash: string;
  /** The compiled code itself (for shipping to remote workers). */
  code: Uint8Array;
}

type EsbuildError = { text: string; location?: { file: string; line: number; column: number } | null };

/**
 * The folder compiled modules are kept in (per user; safe to delete): beside the distributed
 * workers' blob cache, not in the temp folder, which a test run or a tmp cleaner may empty.
 */
export function moduleCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'optstudy', 'modules');
}

/** Compiles `file`; throws `ModuleCompileError` with the first error's place. */
export async function compileStrategyModule(file: string, cacheDir = moduleCacheDir()): Promise<CompiledModule> {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new ModuleCompileError('the strategy module does not exist', abs, 1, 1);
  const esbuild = await import('esbuild');
  let code: Uint8Array;
  try {
    const out = await esbuild.build({
      entryPoints: [abs],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      // Engine imports in a user module are types only; anything else is bundled in.
      sourcemap: 'inline',
    });
    code = out.outputFiles[0]!.contents;
  } catch (e) {
    const first = ((e as { errors?: EsbuildError[] }).errors ?? [])[0];
    if (first?.location) throw new ModuleCompileError(first.text, path.resolve(first.location.file), first.location.line, first.location.column + 1);
    throw new ModuleCompileError(first?.text ?? (e as Error).message, abs, 1, 1);
  }
  const hash = createHash('sha256').update(code).digest('hex');
  const dir = path.join(cacheDir, hash.slice(0, 16));
  const target = path.join(dir, `${path.basename(abs).replace(/\.[cm]?[jt]sx?$/, '')}.js`);
  if (!existsSync(target)) {
    mkdirSync(dir, { recursive: true });
    // Write then rename: two runs compiling at once never see a half-written file.
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, target);
  }
  return { file: target, hash, code };
}
