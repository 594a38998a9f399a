/**
 * What travels through Redis between a coordinator (`optstudy run --redis`) and workers
 * (`optstudy worker`).
 *
 * Design: ONE well-known BullMQ queue (`optstudy-trials`) shared by every run, each job naming
 * its run. Workers are started independently on other machines and must serve any study
 * without being told which queues exist; with one queue they need no discovery, and BullMQ's
 * FIFO interleaves studies because a coordinator only enqueues the few batches it keeps in
 * flight (its sampler needs results before it proposes more). What is per run lives under the
 * run's own keys: its results list (a coordinator reads only its own results), its cancel flag,
 * its lease (job-auth.ts).
 *
 * A job is self-contained (task, file hashes, trials) in one JSON text, its `body`, signed as
 * a whole when the coordinator holds the shared secret: a coordinator can add a job again
 * after Redis lost it (a restart without persistence) and any worker can run it. Job ids are
 * `<runId>-b<seq>`: adding the same batch twice is a no-op while the first is still known.
 *
 * Results travel binary: the outcomes as the pool reports them (blocks of typed arrays) behind
 * a 32-byte signature, in the newest layout the job's coordinator reads (result-codec.ts).
 */
import type { BlobRef } from './content-store';

/** The queue every worker listens on unless told otherwise (`--queue`). */
export const DEFAULT_QUEUE = 'optstudy-trials';
/** Prefix of our own keys (blobs, results, cancel flags, leases, worker registry); BullMQ uses `bull:`. */
export const DEFAULT_PREFIX = 'optstudy';
/** Version of the job layout; a worker refuses jobs of another version. */
export const JOB_VERSION = 2;

/** The data of one BullMQ job: a batch of trials of one run. `runId` and `seq` repeat the body's, for queue tools. */
export interface BatchJobData {
  v: number;
  runId: string;
  seq: number;
  /** JSON of a `JobBody`: exactly the bytes that are signed. */
  body: string;
  /** HMAC of the body (job-auth.ts `signJob`), or null from a coordinator without a secret. */
  sig: string | null;
}

/** A job's content. */
export interface JobBody {
  v: number;
  runId: string;
  seq: number;
  /** The BullMQ job id it was issued for (the signature binds them too). */
  jobId: string;
  issuedAt: number;
  /**
   * The run's task: `{ task: TaskPayload, settings }` (distributed-executor.ts). Its file fields
   * name files of `files` by the coordinator's path; a worker replaces them by its own copies.
   */
  payload: unknown;
  files: BlobRef[];
  /** The trials, as the optimizer's executor received them. */
  trials: unknown[];
  /**
   * The trials' stage (absent from older coordinators): the worker's pool then writes whole
   * journal lines, which the coordinator journals as they come (no per-trial head to add on its
   * main thread). Older workers ignore it and send bodies; both forms are read.
   */
  stage?: string;
  /**
   * The newest result layout the coordinator reads (result-codec.ts; absent from older
   * coordinators: 2). A worker answers in it, or in the newest it writes if that is older.
   */
  results?: number;
}

/** What a worker pushes onto the run's results list when a batch is done. */
export interface BatchResult {
  runId: string;
  seq: number;
  /** The batch's outcomes as the worker's pool reported them: outcome blocks (typed arrays) or single outcomes. */
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
  /** Strategy kinds its operator allows (`--allow`); absent from older workers. */
  allow?: string[];
  /** Whether it holds a shared secret (runs signed jobs, signs results). */
  signed?: boolean;
}

export const keys = {
  results: (prefix: string, runId: string) => `${prefix}:run:${runId}:results`,
  cancel: (prefix: string, runId: string) => `${prefix}:run:${runId}:cancel`,
  lease: (prefix: string, runId: string) => `${prefix}:run:${runId}:lease`,
  workerSet: (prefix: string) => `${prefix}:workers`,
  worker: (prefix: string, id: string) => `${prefix}:worker:${id}`,
};

/** The BullMQ job id of a batch (BullMQ forbids ':' and integer-looking ids). */
export const jobId = (runId: string, seq: number): string => `${runId}-b${seq}`;

/** A run id is what coordinators make (letters, digits, `-`, `_`): it ends up in keys and job ids. */
export const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

export { decodeResult, encodeResult, MAX_RESULT_BYTES, RESULT_VERSION, type ResultVersion } from './result-codec';
