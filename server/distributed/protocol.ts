/**
 * What travels through Redis between a coordinator (`optstudy run --redis`) and workers
 * (`optstudy worker`).
 *
 * Design: ONE well-known BullMQ queue (`optstudy-trials`) shared by every run, each job naming
 * its run. Workers are started independently on other machines and must serve any study
 * without being told which queues exist; with one queue they need no discovery, and BullMQ's
 * FIFO interleaves studies because a coordinator only enqueues the few batches it keeps in
 * flight (its sampler needs results before it proposes more). What is per run lives under the
 * run's own keys: its results list (a coordinator reads only its own results), its cancel flag.
 *
 * Jobs are self-contained (payload, file hashes, trials), so a coordinator can add a job again
 * after Redis lost it (a restart without persistence) and any worker can run it. Job ids are
 * `<runId>-<seq>`: adding the same batch twice is a no-op while the first is still known.
 */
import type { BlobRef } from './content-store';

/** The queue every worker listens on unless told otherwise (`--queue`). */
export const DEFAULT_QUEUE = 'optstudy-trials';
/** Prefix of our own keys (blobs, results, cancel flags, worker registry); BullMQ uses `bull:`. */
export const DEFAULT_PREFIX = 'optstudy';
/** Version of the job layout; a worker refuses jobs of another version with a clear error. */
export const JOB_VERSION = 1;

/** The data of one BullMQ job: a batch of trials of one run. */
export interface BatchJobData {
  v: number;
  runId: string;
  /** The batch's number within its run. */
  seq: number;
  /**
   * The optimizer's task payload for this run (JSON). Every string in it equal to the `path` of
   * one of `files` is replaced by the worker's local copy of that file before the task runs.
   */
  payload: unknown;
  files: BlobRef[];
  /** The trials, as the optimizer's executor received them. */
  trials: unknown[];
}

/** What a worker pushes onto the run's results list when a batch is done. */
export interface BatchResult {
  runId: string;
  seq: number;
  /** One outcome per trial, in the order of `trials`. */
  outcomes: unknown[];
  /** Which worker ran it (`host:pid`) and on which delivery (1 = first). */
  worker: string;
  attempt: number;
  durationMs: number;
}

/** A live worker, as it registers itself (refreshed every few seconds, expires when it dies). */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  queue: string;
  startedAt: string;
}

export const keys = {
  results: (prefix: string, runId: string) => `${prefix}:run:${runId}:results`,
  cancel: (prefix: string, runId: string) => `${prefix}:run:${runId}:cancel`,
  workerSet: (prefix: string) => `${prefix}:workers`,
  worker: (prefix: string, id: string) => `${prefix}:worker:${id}`,
};

/** The BullMQ job id of a batch (BullMQ forbids ':' and integer-looking ids). */
export const jobId = (runId: string, seq: number): string => `${runId}-b${seq}`;

/**
 * Replaces, anywhere in a JSON value, strings equal to a key of `paths` by its value. The
 * optimizer's payload is opaque here; file references in it are plain absolute paths.
 */
export function rewritePaths<T>(value: T, paths: Map<string, string>): T {
  if (paths.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return paths.get(v) ?? v;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
