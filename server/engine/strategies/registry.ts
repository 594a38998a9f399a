/**
 * The engine's built-in strategies by name. Names, aliases and parameter schemas come from
 * grammar/builtins.ts (shared with the language); this maps each name to its implementation.
 */
import { BUILTIN_STRATEGIES } from '../../../grammar/builtins';
import type { StrategyDefinition } from '../strategy-api';
import { bollinger } from './bollinger';
import { donchianBreakout } from './donchian-breakout';
import { emaAtr } from './ema-atr';
import { macdCross } from './macd-cross';
import { momentumRotation } from './momentum-rotation';
import { rsiReversion } from './rsi-reversion';
import { smaCross } from './sma-cross';

/** Built-ins whose `direction long` runs order only through `buy()` while flat and `close()`: the fast loop can run them. */
const FAST: readonly StrategyDefinition[] = [smaCross, emaAtr, rsiReversion, bollinger, macdCross, donchianBreakout];
const IMPLEMENTATIONS: readonly StrategyDefinition[] = [...FAST, momentumRotation];

const BY_NAME = new Map<string, StrategyDefinition>();
const FAST_DEFS = new Set<StrategyDefinition>();
for (const def of IMPLEMENTATIONS) {
  const schema = BUILTIN_STRATEGIES.find((s) => s.name === def.name);
  const full: StrategyDefinition = { ...def, doc: def.doc ?? schema?.doc, aliases: schema?.aliases ?? def.aliases };
  BY_NAME.set(def.name, full);
  for (const a of full.aliases ?? []) BY_NAME.set(a, full);
  if (FAST.includes(def)) FAST_DEFS.add(full);
}

/** A built-in strategy by name or alias (`rsi_mr`, `boll`), or undefined. */
export function getStrategy(name: string): StrategyDefinition | undefined {
  return BY_NAME.get(name);
}

/** Every built-in (one entry per strategy, not per alias). */
export function listStrategies(): StrategyDefinition[] {
  return [...new Set(BY_NAME.values())];
}

/** True for a built-in the fast loop runs (with direction long, no protective orders, percent commission, no slippage). */
export function isFastBuiltin(def: StrategyDefinition): boolean {
  return FAST_DEFS.has(def);
}
