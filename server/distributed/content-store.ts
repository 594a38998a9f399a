/**
 * Files (price data, bundled strategy modules) reach remote workers by content hash. The
 * coordinator publishes each file once under `optstudy:blob:<sha256>`; a worker first tries the
 * path the coordinator used (a shared disk: no transfer when the bytes there hash the same),
 * then its on-disk cache, and only then fetches from Redis, once, into the cache. Because the
 * key is the hash, a changed file is a new blob, and a stale cache can never be used.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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

export const blobKey = (prefix: string, sha256: string): string => `${prefix}:blob:${sha256}`;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Thrown by a worker when a blob is neither on a shared path, in its cache, nor in Redis. */
export class BlobMissingError extends Error {
  constructor(readonly ref: BlobRef) {
    super(
      `file ${ref.path} (sha256 ${ref.sha256.slice(0, 12)}…) is not on this machine and not in Redis; ` +
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

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** A local path holding exactly the bytes of `ref`, with the original file name. */
  resolve(ref: BlobRef): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(ref.sha256)) return Promise.reject(new Error(`bad content hash '${ref.sha256}'`));
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
    return path.join(this.dir, ref.sha256, path.basename(ref.path) || 'blob');
  }

  private sharedPath(ref: BlobRef): string | null {
    try {
      const st = statSync(ref.path);
      if (!st.isFile() || st.size !== ref.size) return null;
      const stamp = `${ref.path}\0${st.size}\0${st.mtimeMs}`;
      let hash = this.sharedOk.get(stamp);
      if (hash === undefined) {
        hash = sha256(readFileSync(ref.path));
        this.sharedOk.set(stamp, hash);
      }
      if (hash !== ref.sha256) return null;
      this.shared++;
      return ref.path;
    } catch {
      return null;
    }
  }

  private async fetch(ref: BlobRef, target: string): Promise<string> {
    const bytes = await this.redis.getBuffer(blobKey(this.prefix, ref.sha256));
    if (!bytes) throw new BlobMissingError(ref);
    if (sha256(bytes) !== ref.sha256) throw new Error(`blob ${ref.sha256} in Redis does not match its hash; it was corrupted.`);
    mkdirSync(path.dirname(target), { recursive: true });
    // Write then rename, so another worker process sharing the cache never reads half a file.
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, target);
    this.fetched++;
    return target;
  }
}
