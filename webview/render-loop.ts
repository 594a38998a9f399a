/**
 * When the panel draws. Messages arrive in bursts; all drawing is coalesced into one animation
 * frame per burst. The cheap views (header, history, the table's rows in view) draw every frame;
 * the expensive ones (sorting all trials, importance, surface, parallel coordinates, slices…)
 * at most every HEAVY_INTERVAL_MS while a run streams — or 8× their last cost when that is
 * longer, so a busy machine stays responsive — and at once when the user asks for something.
 */

/** The heavy views' minimum interval while streaming. */
export const HEAVY_INTERVAL_MS = 500;
/** Heavy work per animation frame before the rest waits for the next frame. */
const FRAME_BUDGET_MS = 12;

/** Time spent per view (ms, cumulative): read by the benchmark to find what costs. */
export const timings: Record<string, number> = {};
(globalThis as unknown as { __optstudyTimings: typeof timings }).__optstudyTimings = timings;

export function timed<T>(name: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  timings[name] = (timings[name] ?? 0) + performance.now() - t0;
  return r;
}

export interface Views {
  /** Every frame; `rebuild` after a theme change. */
  light(rebuild: boolean): void;
  /**
   * The heavy views' redraws, throttled while streaming. Each task runs in its own animation
   * frame, so one frame never pays for all of them (a streaming panel keeps its frame rate).
   */
  heavy(rebuild: boolean): (() => void)[];
  /** True while the run streams (then heavy views are throttled). */
  streaming(): boolean;
}

export class RenderLoop {
  private frameQueued = false;
  private heavyDirty = true;
  private heavyForce = true;
  private lastHeavy = 0;
  private heavyInterval = HEAVY_INTERVAL_MS;
  private heavyTimer: number | undefined;
  private rebuild = false;
  /** Heavy tasks still to run, one per frame. */
  private pending: (() => void)[] = [];
  private pendingCost = 0;

  constructor(private readonly views: Views) {
    // For the tests and the benchmark: true when nothing is waiting to be drawn.
    (globalThis as unknown as Record<string, unknown>)['__optstudyIdle'] = () => !this.frameQueued && !this.heavyDirty && this.pending.length === 0;
  }

  /** Draws in the next frame. */
  schedule(): void {
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => {
      this.frameQueued = false;
      this.frame();
    });
  }

  /** The heavy views need a redraw: at once (`force`, a user action) or when the throttle allows. */
  dirtyHeavy(force = false): void {
    this.heavyDirty = true;
    if (force) this.heavyForce = true;
    this.schedule();
  }

  /** The theme changed: every chart rebuilds with the new colours. */
  themeChanged(): void {
    this.rebuild = true;
    this.dirtyHeavy(true);
  }

  private frame(): void {
    const rebuild = this.rebuild;
    this.rebuild = false;
    this.views.light(rebuild);
    const now = performance.now();
    // A round in progress finishes first (a request during it starts the next round): restarting
    // it would starve its last views whenever drawing the first ones resizes a card.
    const due = this.pending.length === 0 && this.heavyDirty && (this.heavyForce || rebuild || !this.views.streaming() || now - this.lastHeavy >= this.heavyInterval);
    if (due) {
      this.heavyDirty = false;
      this.heavyForce = false;
      this.lastHeavy = now;
      this.pending = this.views.heavy(rebuild);
      this.pendingCost = 0;
    }
    if (this.pending.length) {
      // Heavy tasks until this frame's budget is spent; the rest in the next frames.
      const t0 = performance.now();
      do this.pending.shift()!();
      while (this.pending.length && performance.now() - t0 < FRAME_BUDGET_MS);
      this.pendingCost += performance.now() - t0;
      if (this.pending.length) return this.schedule();
      this.heavyInterval = Math.max(HEAVY_INTERVAL_MS, 8 * this.pendingCost);
      if (this.heavyForce) return this.schedule();
    }
    if (!this.heavyDirty) return;
    if (this.heavyTimer === undefined) {
      // The last delta of a burst is drawn even if no further message comes.
      this.heavyTimer = window.setTimeout(() => {
        this.heavyTimer = undefined;
        this.schedule();
      }, Math.max(0, this.heavyInterval - (now - this.lastHeavy)));
    }
  }
}
