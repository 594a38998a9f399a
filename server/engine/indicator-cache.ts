/**
 * Per-worker memo of indicator series, keyed by the data's content id, the indicator and its
 * parameters. A grid over periods then computes each series once: SMA(10) is shared by every
 * combination with fast = 10. Bounded by bytes, least recently used evicted first.
 */

interface Entry {
  value: unknown;
  /** First bar where every line of the value is defined (the warm-up it implies). */
  first: number;
  bytes: number;
}

/** Memoized indicator series (one per worker thread; not shared between threads). */
export class IndicatorCache {
  private readonly map = new Map<string, Entry>();
  private bytes = 0;
  /** The key each memoized series was stored under, so combinations of them can be memoized too. */
  private readonly keys = new WeakMap<Float64Array, string>();
  hits = 0;
  misses = 0;

  /** @param maxBytes memory bound for the stored series (default 256 MiB). */
  constructor(readonly maxBytes = 256 * 1024 * 1024) {}

  /**
   * The value stored under `key`, computing (and storing) it on a miss. `compute` returns the
   * value and its first defined bar.
   */
  get<T>(key: string, compute: () => { value: T; first: number }): { value: T; first: number } {
    const hit = this.map.get(key);
    if (hit) {
      this.hits++;
      // Refresh its place in the LRU order.
      this.map.delete(key);
      this.map.set(key, hit);
      return hit as { value: T; first: number };
    }
    this.misses++;
    const r = compute();
    const bytes = sizeOf(r.value);
    const e: Entry = { value: r.value, first: r.first, bytes };
    this.map.set(key, e);
    this.bytes += bytes;
    forEachSeries(r.value, (a, line) => this.keys.set(a, line === '' ? key : `${key}.${line}`));
    while (this.bytes > this.maxBytes && this.map.size > 1) {
      const oldest = this.map.keys().next().value as string;
      this.bytes -= this.map.get(oldest)!.bytes;
      this.map.delete(oldest);
    }
    return r;
  }

  /** The key a series returned by this cache was stored under (undefined for other arrays). */
  keyOf(a: Float64Array): string | undefined {
    return this.keys.get(a);
  }

  /** Number of stored entries. */
  get size(): number {
    return this.map.size;
  }

  /** Bytes held by stored series. */
  get storedBytes(): number {
    return this.bytes;
  }

  /** Drops everything. */
  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

function forEachSeries(v: unknown, f: (a: Float64Array, line: string) => void): void {
  if (v instanceof Float64Array) f(v, '');
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) if (x instanceof Float64Array) f(x, k);
  }
}

function sizeOf(v: unknown): number {
  let n = 64;
  forEachSeries(v, (a) => (n += a.byteLength));
  return n;
}
