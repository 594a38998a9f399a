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
  /** Clock tick of the last use, for least-recently-used eviction. */
  tick: number;
  data: Map<string, Entry>;
  key: string;
}

/** Memoized indicator series (one per worker thread; not shared between threads). */
export class IndicatorCache {
  /** data id → series key → entry: keys need not repeat the (long) data id. */
  private readonly byData = new Map<string, Map<string, Entry>>();
  private bytes = 0;
  private count = 0;
  private clock = 0;
  hits = 0;
  misses = 0;

  /** @param maxBytes memory bound for the stored series (default 256 MiB). */
  constructor(readonly maxBytes = 256 * 1024 * 1024) {}

  /**
   * The value stored under (`dataId`, `key`), computing and storing it on a miss. `compute`
   * returns the value and its first defined bar.
   */
  get<T>(dataId: string, key: string, compute: () => { value: T; first: number }): { value: T; first: number } {
    const hit = this.find(dataId, key);
    if (hit) return hit as { value: T; first: number };
    const r = compute();
    this.put(dataId, key, r.value, r.first);
    return r;
  }

  /** The entry stored under (`dataId`, `key`) — its `value` and `first` — or undefined (a miss: `put` the value). */
  find(dataId: string, key: string): { readonly value: unknown; readonly first: number } | undefined {
    const hit = this.byData.get(dataId)?.get(key);
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    hit.tick = ++this.clock;
    return hit;
  }

  /** Stores `value` (first defined at bar `first`) under (`dataId`, `key`). */
  put(dataId: string, key: string, value: unknown, first: number): void {
    let m = this.byData.get(dataId);
    if (!m) {
      m = new Map();
      this.byData.set(dataId, m);
    }
    const bytes = sizeOf(value);
    const e: Entry = { value, first, bytes, tick: ++this.clock, data: m, key };
    const old = m.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.count--;
    }
    m.set(key, e);
    this.bytes += bytes;
    this.count++;
    if (this.bytes > this.maxBytes) this.evict(e);
  }

  /** Drops least recently used entries (never `keep`) until 3/4 of the budget is used. */
  private evict(keep: Entry): void {
    const all: Entry[] = [];
    for (const m of this.byData.values()) for (const e of m.values()) if (e !== keep) all.push(e);
    all.sort((a, b) => a.tick - b.tick);
    const target = this.maxBytes * 0.75;
    for (const e of all) {
      if (this.bytes <= target) break;
      e.data.delete(e.key);
      this.bytes -= e.bytes;
      this.count--;
    }
  }

  /** Number of stored entries. */
  get size(): number {
    return this.count;
  }

  /** Bytes held by stored series. */
  get storedBytes(): number {
    return this.bytes;
  }

  /** Drops everything. */
  clear(): void {
    this.byData.clear();
    this.bytes = 0;
    this.count = 0;
  }
}

/** Bytes of a stored value: its series (a Float64Array, or an object of them) plus a little. */
function sizeOf(v: unknown): number {
  if (v instanceof Float64Array) return 64 + v.byteLength;
  let n = 64;
  if (v && typeof v === 'object') for (const x of Object.values(v)) if (x instanceof Float64Array) n += x.byteLength;
  return n;
}
