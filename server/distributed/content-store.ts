/**
 * Files (price data, bundled strategy modules) reach remote workers by content hash. The
 * coordinator publishes each file once under `optstudy:blob:<sha256>`; a worker uses the path
 * the coordinator named only when it lies under the worker's data root (`--data-root`, a shared
 * disk) and its bytes hash the same, else its on-disk cache, else fetches from Redis, once, into
 * the cache. Because the key is the hash, a changed file is a new blob, a stale cache can never
 * be used, and a job can make a worker read nothing but its data root and its own cache: the
 * bytes it gets are the bytes the coordinator published.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Redis } from 'ioredis';

/** A file a task needs, as the coordinator saw it. */
export interface BlobRef {
  /** sha256 of the bytes, hex. */
  sha256: string;
  /** The coordinator's absolute path (used as is when a worker sees the same bytes there). */
  path: string;
  /** Size in bytes. */
  size: number;
}

/** Blobs expire a day after their last publication, so Redis does not keep old data forever. */
const BLOB_TTL_S = 24 * 3600;
/** Largest file a worker takes (a price file of decades of minute bars is a few hundred MB). */
export const MAX_BLOB_BYTES = 1 << 30;

export const blobKey = (prefix: string, sha256: string): string => `${prefix}:blob:${sha256}`;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Thrown by a worker when a blob is neither on a shared path, in its cache, nor in Redis. */
export class BlobMissingError extends Error {
  constructor(readonly ref: BlobRef) {
    super(
      `file ${safeName(ref.path)} (sha256 ${ref.sha256.slice(0, 12)}…) is not in this worker's cache and not in Redis; ` +
        `the coordinator publishes it again when it reconnects.`,
    );
    this.name = 'BlobMissingError';
  }
}

/** Reads a file and describes it; `bytes` are kept so they can be published. */
export function describeFile(file: string): { ref: BlobRef; bytes: Buffer } {
  const abs = path.resolve(file);
  const bytes = readFileSync(abs);
  return { ref: { sha256: sha256(bytes), path: abs, size: bytes.length }, bytes };
}

/** Stores `bytes` under their hash (once; a second publication only refreshes the expiry). */
export async function publishBlob(redis: Redis, prefix: string, ref: BlobRef, bytes: Uint8Array): Promise<void> {
  const key = blobKey(prefix, ref.sha256);
  const set = await redis.set(key, Buffer.from(bytes), 'EX', BLOB_TTL_S, 'NX');
  if (set === null) await redis.expire(key, BLOB_TTL_S);
}

/**
 * A worker's view of blobs: shared path, then cache folder, then Redis. Concurrent requests for
 * the same hash share one fetch. Hashes of shared paths are remembered by (size, mtime), so a
 * big price file on a shared disk is hashed once, not per job.
 */
export class BlobCache {
  private inflight = new Map<string, Promise<string>>();
  private sharedOk = new Map<string, string>();
  /** How many blobs were fetched through Redis (for tests and the worker's log). */
  fetched = 0;
  /** How many were served from the coordinator's path on a shared disk. */
  shared = 0;
  private readonly root: string | null;

  /** `dataRoot`: the folder whose files may be used in place (a shared disk); none by default. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly dir: string,
    dataRoot?: string | null,
  ) {
    mkdirSync(dir, { recursive: true });
    this.root = dataRoot ? realpathSync(dataRoot) : null;
  }

  /** A local path holding exactly the bytes of `ref`, with the original file name. */
  resolve(ref: BlobRef): Promise<string> {
    if (!isBlobRef(ref)) return Promise.reject(new Error('a file reference is malformed (sha256, path, size)'));
    if (ref.size > MAX_BLOB_BYTES) return Promise.reject(new Error(`file ${safeName(ref.path)} is ${ref.size} bytes; a worker takes files up to ${MAX_BLOB_BYTES} bytes`));
    const shared = this.sharedPath(ref);
    if (shared) return Promise.resolve(shared);
    const cached = this.cachePath(ref);
    if (existsSync(cached)) return Promise.resolve(cached);
    let p = this.inflight.get(ref.sha256);
    if (!p) {
      p = this.fetch(ref, cached).finally(() => this.inflight.delete(ref.sha256));
      this.inflight.set(ref.sha256, p);
    }
    return p;
  }

  /** The cache keeps the original base name (loaders look at extensions) under the hash. */
  private cachePath(ref: BlobRef): string {
    return path.join(this.dir, ref.sha256, safeName(ref.path));
  }

  /** The coordinator's path, when it is a regular file under the data root with the same bytes. */
  private sharedPath(ref: BlobRef): string | null {
    if (!this.root || !path.isAbsolute(ref.path)) return null;
    try {
      // The real path (no symlink out of the root), and it must be inside the root.
      const real = realpathSync(ref.path);
      if (real !== this.root && !real.startsWith(this.root + path.sep)) return null;
      const st = statSync(real);
      if (!st.isFile() || st.size !== ref.size) return null;
      const stamp = `${real}\0${st.size}\0${st.mtimeMs}`;
      let hash = this.sharedOk.get(stamp);
      if (hash === undefined) {
        hash = sha256(readFileSync(real));
        this.sharedOk.set(stamp, hash);
      }
      if (hash !== ref.sha256) return null;
      this.shared++;
      return real;
    } catch {
      return null;
    }
  }

  private async fetch(ref: BlobRef, target: string): Promise<string> {
    const key = blobKey(this.prefix, ref.sha256);
    // Its size first: a key that is not the announced file is never pulled into memory.
    const size = await this.redis.strlen(key);
    if (size === 0) throw new BlobMissingError(ref);
    if (size !== ref.size) throw new Error(`blob ${ref.sha256.slice(0, 12)}… in Redis is ${size} bytes, not the ${ref.size} announced; it was altered.`);
    const bytes = await this.redis.getBuffer(key);
    if (!bytes) throw new BlobMissingError(ref);
    if (sha256(bytes) !== ref.sha256) throw new Error(`blob ${ref.sha256.slice(0, 12)}… in Redis does not match its hash; it was altered.`);
    mkdirSync(path.dirname(target), { recursive: true });
    // Write then rename, so another worker process sharing the cache never reads half a file.
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, target);
    this.fetched++;
    return target;
  }
}

/** A well-formed reference (what a job may claim): a sha256, an absolute path, a size. */
export function isBlobRef(x: unknown): x is BlobRef {
  if (!x || typeof x !== 'object') return false;
  const r = x as Partial<BlobRef>;
  return typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256) && typeof r.path === 'string' && r.path.length > 0 && r.path.length < 4096 && Number.isSafeInteger(r.size) && r.size! >= 0;
}

/**
 * The base name a cached copy keeps (loaders look at the extension): the coordinator's, when it
 * is a plain name; `blob` plus its extension otherwise (`..`, hidden names, odd characters).
 */
export function safeName(file: string): string {
  const base = path.basename(file.replace(/\\/g, '/'));
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(base)) return base;
  const ext = /\.[A-Za-z0-9]{1,10}$/.exec(base)?.[0] ?? '';
  return `blob${ext}`;
}
