/**
 * What a worker agrees to run. Anyone who can write to the Redis can add a job, so a job is
 * checked whole before anything of it runs:
 * - its layout, and its signature when the worker holds the shared secret (then every job must
 *   be signed with it);
 * - its strategy kind: built-ins by default; `module` and `command` only when the operator
 *   allows them (`--allow`) AND the job is signed — code only from a coordinator that holds the
 *   secret;
 * - its files: every file the task names (price data, a bundled module) must be one of the
 *   job's content-addressed files, which the worker reads from its data root or its cache or
 *   fetches by hash (content-store.ts); no other absolute path may appear in the task.
 * A job that breaks a rule fails for good (no retry) with `refused: <rule>`, a reason that says
 * what to change and quotes nothing of the worker's files.
 */
import * as path from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { isBlobRef, type BlobRef } from './content-store';
import { verifyJob } from './job-auth';
import { JOB_VERSION, RUN_ID, jobId as jobIdOf, type JobBody } from './protocol';

export type StrategyKind = 'builtin' | 'module' | 'command';
export const STRATEGY_KINDS: readonly StrategyKind[] = ['builtin', 'module', 'command'];

export interface WorkerPolicy {
  /** Strategy kinds the operator allows (`--allow`, default builtin only). */
  allow: ReadonlySet<StrategyKind>;
  /** The shared secret; null: unsigned jobs of built-ins only. */
  secret: Buffer | null;
}

/** A job the worker will not run. Fails the job for good; the message starts with `refused:`. */
export class JobRefused extends UnrecoverableError {
  constructor(rule: string) {
    super(`refused: ${rule}`);
    this.name = 'JobRefused';
  }
}

/** A job that passed every check. `localize` gives the task with the worker's own file paths. */
export interface AdmittedJob {
  body: JobBody;
  signed: boolean;
  kind: StrategyKind;
  /** The task with each file field replaced by `local.get(coordinatorPath)`. */
  localize(local: Map<string, string>): unknown;
}

/** The longest stage name taken (a name in a study file). */
const MAX_STAGE = 1000;

/** The biggest job body taken (trials are ~100 bytes each; a chunk holds thousands at most). */
const MAX_BODY = 32 << 20;
const MAX_FILES = 64;

/** Checks a BullMQ job against the policy. @throws JobRefused */
export function admitJob(id: string | undefined, data: unknown, policy: WorkerPolicy): AdmittedJob {
  const d = (data ?? {}) as Record<string, unknown>;
  if (d.v !== JOB_VERSION)
    throw new JobRefused(`job layout version ${typeof d.v === 'number' ? d.v : 'unknown'}; this worker reads version ${JOB_VERSION}: run the same optstudy version on coordinator and workers`);
  if (typeof d.body !== 'string' || d.body.length > MAX_BODY || typeof id !== 'string') throw new JobRefused('malformed job (no body)');
  let signed = false;
  if (policy.secret) {
    if (d.sig === null || d.sig === undefined) throw new JobRefused('unsigned job: this worker takes only jobs signed with its shared secret (the coordinator needs the same --secret-file)');
    if (!verifyJob(policy.secret, id, d.body, d.sig)) throw new JobRefused('bad signature: the job was not signed with this worker\'s shared secret, or was altered');
    signed = true;
  } else if (d.sig !== null && d.sig !== undefined) {
    // Its coordinator holds a secret and takes only signed results, which this worker cannot make.
    throw new JobRefused('signed job, but this worker has no shared secret: start it with the coordinator\'s --secret-file');
  }
  let body: JobBody;
  try {
    body = JSON.parse(d.body) as JobBody;
  } catch {
    throw new JobRefused('malformed job (its body is not JSON)');
  }
  if (!body || typeof body !== 'object' || body.v !== JOB_VERSION || typeof body.runId !== 'string' || !RUN_ID.test(body.runId) || !Number.isSafeInteger(body.seq))
    throw new JobRefused('malformed job (run or batch)');
  if (body.jobId !== id || id !== jobIdOf(body.runId, body.seq) || d.runId !== body.runId || d.seq !== body.seq) throw new JobRefused('the job id does not match its body');
  if (!Array.isArray(body.trials) || !Array.isArray(body.files) || body.files.length > MAX_FILES || !body.files.every(isBlobRef)) throw new JobRefused('malformed job (trials or files)');
  if (body.stage !== undefined && (typeof body.stage !== 'string' || body.stage.length > MAX_STAGE)) throw new JobRefused('malformed job (stage)');
  const task = taskOf(body.payload);
  const kind = task.strategy.kind as StrategyKind;
  if (!STRATEGY_KINDS.includes(kind)) throw new JobRefused(`unknown strategy kind '${String(kind).slice(0, 40)}'`);
  if (kind !== 'builtin') {
    if (!signed)
      throw new JobRefused(
        `this worker runs built-in strategies only: a ${kind} strategy runs only from a coordinator holding the shared secret (start the worker with --secret-file FILE --allow builtin,${kind}, and the coordinator with the same secret)`,
      );
    if (!policy.allow.has(kind)) throw new JobRefused(`this worker does not run ${kind} strategies (its operator allows: ${[...policy.allow].join(', ')}; --allow builtin,${kind} would)`);
  }
  const fields = fileFields(task);
  const files = new Set(body.files.map((f: BlobRef) => f.path));
  for (const f of fields) {
    if (!files.has(f.get())) throw new JobRefused(`the task's ${f.name} is not one of the job's files: a worker reads only files sent by content hash (or under its --data-root)`);
  }
  refuseOtherPaths(task, new Set(fields.map((f) => f.name)));
  return {
    body,
    signed,
    kind,
    localize(local) {
      const copy = structuredClone(body.payload) as { task: Task };
      for (const f of fileFields(copy.task)) f.set(local.get(f.get())!);
      return copy;
    },
  };
}

interface Task {
  data: { file: string };
  datas?: { file: string }[];
  strategy: { kind: string; file?: string; command?: string; cwd?: string };
  [k: string]: unknown;
}

function taskOf(payload: unknown): Task {
  const t = (payload as { task?: Task } | null)?.task;
  if (!t || typeof t !== 'object' || !t.data || typeof t.data.file !== 'string' || !t.strategy || typeof t.strategy.kind !== 'string')
    throw new JobRefused('malformed job (task)');
  if (t.datas !== undefined && (!Array.isArray(t.datas) || !t.datas.every((x) => x && typeof x.file === 'string'))) throw new JobRefused('malformed job (datas)');
  return t;
}

/** The task's fields that name files: price data (each feed) and a module strategy's bundle. */
function fileFields(t: Task): { name: string; get: () => string; set: (v: string) => void }[] {
  const out = [{ name: 'data.file', get: () => t.data.file, set: (v: string) => (t.data.file = v) }];
  (t.datas ?? []).forEach((x, i) => out.push({ name: `datas.${i}.file`, get: () => x.file, set: (v: string) => (x.file = v) }));
  if (t.strategy.kind === 'module') {
    if (typeof t.strategy.file !== 'string') throw new JobRefused('malformed job (module file)');
    const s = t.strategy as { file: string };
    out.push({ name: 'strategy.file', get: () => s.file, set: (v: string) => (s.file = v) });
  }
  return out;
}

/**
 * No absolute path may hide elsewhere in the task (a field some later loader might open). A
 * command strategy's folder is the one exception: it names where the command runs.
 */
function refuseOtherPaths(t: Task, allowed: Set<string>): void {
  if (t.strategy.kind === 'command') {
    allowed.add('strategy.cwd');
    allowed.add('strategy.command');
  }
  const walk = (v: unknown, at: string): void => {
    if (typeof v === 'string') {
      if (!allowed.has(at) && (path.isAbsolute(v) || path.win32.isAbsolute(v) || v.startsWith('file:')))
        throw new JobRefused(`the task's ${at.slice(0, 80)} names a path: a worker reads only files sent by content hash`);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}.${i}`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, at ? `${at}.${k}` : k);
  };
  walk(t, '');
}
