/**
 * The shared secret of a distributed deployment, and what it signs. Whoever can write to the
 * Redis can add jobs and push results; only a holder of the secret can make a worker run a
 * module or a command strategy, or make a coordinator accept a result.
 *
 * - A job's body (its whole content: run, batch, task, files with their hashes, trials) is
 *   signed with HMAC-SHA256 bound to its BullMQ job id, so a body cannot be moved to another
 *   job or altered.
 * - A run's lease (`runId`, valid until T) is signed and renewed by its coordinator while it
 *   runs; a worker runs a signed job only while its run's lease is valid. Replaying the jobs
 *   of a finished run (its lease deleted or expired) is refused; a replay during the run only
 *   repeats work the coordinator asked for (its first result wins, later ones are dropped), and
 *   a worker never runs a batch it has already finished.
 * - A result is signed by the worker that ran it; a coordinator with the secret drops others.
 *
 * Different purposes use different prefixes, so a signature of one kind never verifies as another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** A secret shorter than this is refused (HMAC keys should be long and random). */
export const MIN_SECRET_LENGTH = 16;

export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** Where a process found its secret, for its log: never the secret itself. */
export interface LoadedSecret {
  key: Buffer;
  source: string;
  /** E.g. a secret file that others may read. */
  warnings: string[];
}

/**
 * The secret from `--secret-file FILE`, else the file named by `OPTSTUDY_SECRET_FILE`, else the
 * text of `OPTSTUDY_SECRET`; null when none is set. Surrounding whitespace (a trailing newline)
 * is not part of it.
 * @throws SecretError when the file cannot be read or the secret is too short.
 */
export function loadSecret(file: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedSecret | null {
  const path = file ?? env.OPTSTUDY_SECRET_FILE;
  let text: string;
  let source: string;
  const warnings: string[] = [];
  if (path) {
    source = file ? `--secret-file ${path}` : `OPTSTUDY_SECRET_FILE=${path}`;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new SecretError(`${source}: not a regular file`);
      if (st.size > 4096) throw new SecretError(`${source}: larger than 4 KiB; a secret file holds one line`);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) warnings.push(`${source} can be read by other users (chmod 600 ${path})`);
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if (e instanceof SecretError) throw e;
      throw new SecretError(`${source}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  } else if (env.OPTSTUDY_SECRET) {
    source = 'OPTSTUDY_SECRET';
    text = env.OPTSTUDY_SECRET;
  } else return null;
  const secret = text.trim();
  if (secret.length < MIN_SECRET_LENGTH)
    throw new SecretError(`${source}: the secret is ${secret.length} characters; use at least ${MIN_SECRET_LENGTH} random ones (e.g. openssl rand -hex 32)`);
  return { key: Buffer.from(secret, 'utf8'), source, warnings };
}

function mac(key: Buffer, purpose: string, ...parts: (string | Uint8Array)[]): Buffer {
  const h = createHmac('sha256', key).update(purpose);
  for (const p of parts) {
    // Length-prefixed, so two different splits of the same bytes never sign alike.
    const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    h.update(len).update(bytes);
  }
  return h.digest();
}

function sameHex(expected: Buffer, given: unknown): boolean {
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}

/** The signature of a job's body, bound to its BullMQ job id. */
export function signJob(key: Buffer, jobId: string, body: string): string {
  return mac(key, 'optstudy-job-2', jobId, body).toString('hex');
}

export function verifyJob(key: Buffer, jobId: string, body: string, sig: unknown): boolean {
  return sameHex(mac(key, 'optstudy-job-2', jobId, body), sig);
}

/** A run's lease: `{ runId, until, sig }`, signed by its coordinator. */
export interface Lease {
  runId: string;
  /** Epoch ms after which the lease is void. */
  until: number;
  sig: string;
}

export function signLease(key: Buffer, runId: string, until: number): Lease {
  return { runId, until, sig: mac(key, 'optstudy-lease-2', runId, String(until)).toString('hex') };
}

/** True when `lease` is the coordinator's, for `runId`, and not expired at `now`. */
export function verifyLease(key: Buffer, runId: string, lease: unknown, now = Date.now()): boolean {
  if (!lease || typeof lease !== 'object') return false;
  const l = lease as Partial<Lease>;
  if (l.runId !== runId || typeof l.until !== 'number' || !Number.isFinite(l.until) || l.until < now) return false;
  return sameHex(mac(key, 'optstudy-lease-2', runId, String(l.until)), l.sig);
}

/** 32-byte signature of a result's bytes (all zeros when unsigned); the purpose names the result layout. */
export function signResult(key: Buffer | null, bytes: Uint8Array, version = 2): Buffer {
  return key ? mac(key, `optstudy-result-${version}`, bytes) : Buffer.alloc(32);
}

export function verifyResult(key: Buffer, bytes: Uint8Array, sig: Uint8Array, version = 2): boolean {
  const want = mac(key, `optstudy-result-${version}`, bytes);
  return sig.length === want.length && timingSafeEqual(want, sig);
}
