/**
 * The arguments of `optstudy backtest` (DESIGN.md "CLI" and "The market model"): data files,
 * strategy, parameters and the broker — cash, commission (`0.1%`, `0.001`, `0.005/share`,
 * `2.5/contract` with `--margin` and `--mult`), slippage (`0.05%` or `0.02`), sizing.
 */
import { DEFAULT_CONFIG, type BacktestConfig, type CommissionScheme, type SlippageScheme } from '../engine/index';

/** A bad argument: the message says what to write instead. */
export class ArgError extends Error {}

export interface BacktestArgs {
  /** Price files, data 0 first. */
  data: string[];
  strategy: string;
  params: Record<string, number | string | boolean>;
  config: BacktestConfig;
  from?: string;
  to?: string;
  json: boolean;
}

/** A percent with its sign (`0.1%`) or a bare fraction (`0.001`), as a fraction in [0, 1). */
function fraction(text: string, what: string, example: string): number {
  const t = text.trim();
  const pct = t.endsWith('%');
  const num = pct ? t.slice(0, -1).trim() : t;
  const v = Number(num);
  if (num === '' || !Number.isFinite(v) || v < 0) throw new ArgError(`${what} '${text}' is not a number; write ${example}.`);
  const f = pct ? v / 100 : v;
  if (f >= 1) throw new ArgError(`${what} '${text}' is 100% or more; write ${example}.`);
  return f;
}

/** A non-negative amount. */
function amount(text: string, what: string, example: string): number {
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new ArgError(`${what} '${text}' is not an amount >= 0; write ${example}.`);
  return v;
}

/** `0.1%` → 0.001; a bare number is a fraction. */
export function parseCommission(text: string): number {
  return fraction(text, '--commission', 'a percent like 0.1% or a fraction like 0.001');
}

/**
 * `--commission` in any of its forms: `0.1%` / `0.001` (percent of value), `0.005/share`,
 * `2.5/contract` (needs `margin` and `mult`).
 */
export function parseCommissionScheme(text: string, margin?: number, mult?: number): CommissionScheme {
  const m = /^(.*)\/\s*(share|contract)s?\s*$/i.exec(text.trim());
  if (!m) {
    if (margin !== undefined || mult !== undefined) throw new ArgError('--margin and --mult go with a per-contract commission, e.g. --commission 2.5/contract --margin 2000 --mult 10.');
    return { kind: 'percent', rate: parseCommission(text) };
  }
  const a = amount(m[1]!, '--commission', m[2]!.toLowerCase() === 'share' ? 'e.g. 0.005/share' : 'e.g. 2.5/contract');
  if (m[2]!.toLowerCase() === 'share') {
    if (margin !== undefined || mult !== undefined) throw new ArgError('--margin and --mult go with a per-contract commission, not a per-share one.');
    return { kind: 'per_share', amount: a };
  }
  if (margin === undefined || mult === undefined) throw new ArgError(`--commission ${text} needs --margin N (cash held per contract) and --mult N (the contract multiplier), e.g. --margin 2000 --mult 10.`);
  return { kind: 'per_contract', amount: a, margin, mult };
}

/** `--slippage 0.05%` (percent of the price) or `0.02` (a fixed price amount). */
export function parseSlippage(text: string): SlippageScheme {
  const t = text.trim();
  if (t.endsWith('%')) return { kind: 'percent', rate: fraction(t, '--slippage', 'a percent like 0.05% or a price amount like 0.02') };
  return { kind: 'fixed', amount: amount(t, '--slippage', 'a percent like 0.05% or a price amount like 0.02') };
}

/** `fixed:10` / `percent:95`. */
export function parseSizing(text: string): BacktestConfig['sizing'] {
  const m = /^(fixed|percent):(.+)$/.exec(text.trim());
  const v = m ? Number(m[2]) : NaN;
  if (!m || !Number.isFinite(v)) throw new ArgError(`--sizing '${text}' is not a sizing; write fixed:N (units) or percent:N (of the portfolio value), e.g. percent:95.`);
  if (m[1] === 'fixed' && !(Number.isInteger(v) && v > 0)) throw new ArgError(`--sizing '${text}': fixed sizing takes a whole number of units > 0.`);
  if (m[1] === 'percent' && !(v > 0 && v <= 100)) throw new ArgError(`--sizing '${text}': percent sizing takes a value in (0, 100].`);
  return { kind: m[1] as 'fixed' | 'percent', value: v };
}

/** `k=v` with v a number, true/false or a string. */
function parseParam(text: string): [string, number | string | boolean] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ArgError(`--param '${text}' is not k=v; write e.g. --param fast=10.`);
  const k = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  if (raw === '') throw new ArgError(`--param '${text}' has no value; write e.g. --param ${k}=10.`);
  if (raw === 'true' || raw === 'false') return [k, raw === 'true'];
  const n = Number(raw);
  return [k, Number.isFinite(n) ? n : raw.replace(/^["']|["']$/g, '')];
}

function positive(text: string, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0) throw new ArgError(`${what} '${text}' must be a positive number.`);
  return v;
}

/** Parses the arguments; 'help' for --help. @throws ArgError */
export function parseBacktestArgs(args: string[]): BacktestArgs | 'help' {
  const data: string[] = [];
  let strategy: string | undefined;
  const params: Record<string, number | string | boolean> = {};
  const config: BacktestConfig = { ...DEFAULT_CONFIG, sizing: { ...DEFAULT_CONFIG.sizing } };
  let commission: string | undefined;
  let margin: number | undefined;
  let mult: number | undefined;
  let from: string | undefined;
  let to: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    let a = args[i]!;
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new ArgError(`${a} needs a value.`);
      return v;
    };
    switch (a) {
      case '--help':
      case '-h':
        return 'help';
      case '--json':
        json = true;
        break;
      case '--data':
        data.push(value());
        break;
      case '--strategy':
        strategy = value();
        break;
      case '--param': {
        const [k, v] = parseParam(value());
        params[k] = v;
        break;
      }
      case '--cash':
        config.cash = positive(value(), '--cash');
        break;
      case '--commission':
        commission = value();
        break;
      case '--margin':
        margin = positive(value(), '--margin');
        break;
      case '--mult':
        mult = positive(value(), '--mult');
        break;
      case '--slippage':
        config.slippage = parseSlippage(value());
        break;
      case '--sizing':
        config.sizing = parseSizing(value());
        break;
      case '--from':
        from = value();
        break;
      case '--to':
        to = value();
        break;
      default:
        throw new ArgError(`unknown option '${args[i]}'.`);
    }
  }
  if (data.length === 0) throw new ArgError('--data FILE is required.');
  if (!strategy) throw new ArgError('--strategy NAME is required.');
  if (commission !== undefined || margin !== undefined || mult !== undefined) config.commission = parseCommissionScheme(commission ?? '0.1%', margin, mult);
  return { data, strategy, params, config, from, to, json };
}
