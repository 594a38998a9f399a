/**
 * The shipped declarations (samples/strategies/optstudy-strategy.d.ts, what strategy authors
 * compile against) and the engine's own API (server/engine/strategy-api.ts) must describe the
 * same thing. This file has no runtime part: `npm run typecheck` (tsc, run by CI) fails on any
 * drift — a field added on one side only, a changed type, a method the declarations lack.
 */
import type * as Shipped from '../../samples/strategies/optstudy-strategy';
import type * as Engine from '../../server/engine/strategy-api';
import type { PriceData as EnginePriceData } from '../../server/engine/types';

/**
 * true when A and B are identical types (also optional fields and readonly count), else false:
 * two generic functions are only related when their conditional types are identical.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** true when A can be used where B is expected. */
type Fits<A, B> = [A] extends [B] ? true : false;

export const declarationsMatch: {
  orderType: Same<Shipped.OrderType, Engine.OrderType>;
  orderOptions: Same<Shipped.OrderOptions, Engine.OrderOptions>;
  orderRef: Same<Shipped.OrderRef, Engine.OrderRef>;
  orderEvent: Same<Shipped.OrderEvent, Engine.OrderEvent>;
  orderTarget: Same<Shipped.OrderTarget, Engine.OrderTarget>;
  priceField: Same<Shipped.PriceField, Engine.PriceField>;
  params: Same<Shipped.StrategyParams, Engine.StrategyParams>;
  indicators: Same<Shipped.Indicators, Engine.Indicators>;
  feed: Same<Shipped.Feed, Engine.Feed>;
  context: Same<Shipped.StrategyContext, Engine.StrategyContext>;
  definition: Same<Shipped.StrategyDefinition, Engine.StrategyDefinition>;
  /** The engine's price data is what a strategy reads through the declarations' PriceData. */
  priceData: Fits<EnginePriceData, Shipped.PriceData>;
} = {
  orderType: true,
  orderOptions: true,
  orderRef: true,
  orderEvent: true,
  orderTarget: true,
  priceField: true,
  params: true,
  indicators: true,
  feed: true,
  context: true,
  definition: true,
  priceData: true,
};
