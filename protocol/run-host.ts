/**
 * Messages between a parent (the CLI or the extension) and the run host, a separate Node
 * process (`dist/run-host.js`, started with `child_process.fork`) that owns the worker pool,
 * so a runaway strategy or an out-of-memory can never take the editor down.
 * Types only.
 */
import type { RunEvent } from './run-events';

/** Parent → host. */
export type HostRequest =
  | {
      type: 'run';
      /** The study file, absolute. */
      file: string;
      /** Which study in the file (by name); the first when absent. */
      study?: string;
      /** Only this stage (by name), starting from the strategy defaults/overrides. */
      stage?: string;
      workers?: number;
      seed?: number;
      /** The run folder; a new one under `.optstudy/runs/` beside the study when absent. */
      out?: string;
      /** Continue the run kept in this folder. */
      resume?: string;
      /** Run trials on BullMQ workers through this Redis instead of the local pool. */
      redis?: string;
      /** False in an untrusted workspace: module and command strategies are refused. */
      trusted?: boolean;
      /** The workspace folder of the study: data and module paths may not leave it (default: the study's folder). */
      workspaceRoot?: string;
    }
  | { type: 'cancel' };

/**
 * Host → parent: every run event, in order; the host exits after `end`. `events` carries
 * several events at once (the host batches them, about one message per 100 ms, so a fast run
 * cannot flood the channel and a cancel is never queued behind a backlog).
 */
export type HostMessage = { type: 'event'; event: RunEvent } | { type: 'events'; events: RunEvent[] };
