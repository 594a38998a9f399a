/**
 * Watches the pool's running chunks: a trial past the timeout, or the process's resident
 * memory (RSS) past the pool's cap, has its worker terminated (piscina starts a new one) and
 * the chunk learns which trial and why. Each chunk shares a small "beat" buffer with its
 * worker: [index of the running trial or -1, its start time (ms; 0 until the chunk starts),
 * the worker's thread id, its OS thread id (Linux; 0 elsewhere)].
 *
 * RSS is the whole process's; the trial to blame is the running one whose thread took the most
 * new memory pages (minor page faults, /proc/self/task/TID/stat) since the last look — else the
 * one that has run longest.
 */
import { readFileSync, readlinkSync } from 'node:fs';

export const BEAT_SLOTS = 4;

export interface WatchedChunk {
  beat: Float64Array;
  /** Set by the watchdog when it terminated the chunk's worker. */
  killed: { index: number; reason: string } | null;
  /** Minor page faults of the worker's thread at the last look. */
  faults?: number;
}

export class Watchdog {
  private readonly chunks = new Set<WatchedChunk>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly terminate: (threadId: number) => void,
    private readonly timeoutMs: number | undefined,
    /** The process's RSS cap in bytes. */
    private readonly rssLimit: number,
  ) {}

  watch(chunk: WatchedChunk): () => void {
    this.chunks.add(chunk);
    if (!this.timer) {
      const every = this.timeoutMs !== undefined ? Math.max(10, Math.min(250, this.timeoutMs / 5)) : 250;
      this.timer = setInterval(() => this.look(), every);
      this.timer.unref();
    }
    return () => {
      this.chunks.delete(chunk);
      if (this.chunks.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  private look(): void {
    const now = Date.now();
    if (this.timeoutMs !== undefined)
      for (const c of this.chunks) {
        const i = c.beat[0]!;
        if (!c.killed && i >= 0 && now - c.beat[1]! > this.timeoutMs) this.kill(c, i, `timed out after ${this.timeoutMs} ms (its worker was replaced)`);
      }
    const rss = process.memoryUsage.rss();
    let culprit: WatchedChunk | null = null;
    let most = -1;
    for (const c of this.chunks) {
      if (c.killed || c.beat[0]! < 0) continue;
      const faults = minorFaults(c.beat[3]!);
      const grew = faults === undefined ? now - c.beat[1]! : faults - (c.faults ?? faults);
      if (faults !== undefined) c.faults = faults;
      if (grew > most) ((most = grew), (culprit = c));
    }
    if (rss > this.rssLimit && culprit)
      this.kill(culprit, culprit.beat[0]!, `the run's memory (RSS ${mib(rss)} MiB) went over its cap of ${mib(this.rssLimit)} MiB while this trial ran (its worker was replaced)`);
  }

  private kill(c: WatchedChunk, index: number, reason: string): void {
    c.killed = { index, reason };
    this.terminate(c.beat[2]!);
  }
}

function mib(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}

/** Field 10 (minflt) of a thread's stat, or undefined (not Linux, thread gone). */
function minorFaults(tid: number): number | undefined {
  if (!tid) return undefined;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const v = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** This thread's OS id (Linux), for the beat buffer; 0 elsewhere. */
export function osThreadId(): number {
  try {
    return Number(/task\/(\d+)/.exec(readlinkSync('/proc/thread-self'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
