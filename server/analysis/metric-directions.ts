/**
 * Which way is better for each catalogue metric, from grammar/metrics.ts ("neither" counts as
 * higher-is-better for ranking purposes; unknown metrics default to maximize).
 */
import { METRICS } from '../../grammar/metrics';
import type { Direction } from './trial-data';

export const DEFAULT_METRIC_DIRECTIONS: Readonly<Record<string, Direction>> = Object.fromEntries(
  METRICS.map((m) => [m.name, m.better === 'lower' ? 'minimize' : 'maximize'] as const),
);
