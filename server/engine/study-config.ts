/** The broker settings of a study (grammar's model) as the engine takes them. */
import type { StudyModel } from '../../grammar/model';
import type { BacktestConfig } from './types';

/** `cash`, `commission` (percent, per share or per contract), `slippage` and `sizing` of a study. */
export function studyConfig(m: Pick<StudyModel, 'cash' | 'commission' | 'commissionScheme' | 'slippage' | 'sizing'>): BacktestConfig {
  return { cash: m.cash, commission: m.commissionScheme ?? m.commission, slippage: m.slippage ?? null, sizing: m.sizing };
}

/** The commission as a fraction of value, what the external strategy protocol carries (0 for per-share or per-contract schemes). */
export function percentCommission(c: BacktestConfig['commission']): number {
  return typeof c === 'number' ? c : c.kind === 'percent' ? c.rate : 0;
}
