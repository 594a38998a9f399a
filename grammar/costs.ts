/**
 * The cost statements of a study: `commission` (a percent of traded value, an amount per share,
 * or per futures contract with margin and multiplier) and `slippage` (a percent of the price or
 * a fixed amount), checked into the model's `commission`, `commissionScheme` and `slippage`.
 */
import { IssueCodes } from './issue-codes';
import type { Diagnostic, LiteralAst, Range, Severity, StudyModel, StudyStatementAst } from './model';
import { closest } from './suggest';

/** What the checks need to report a finding. */
export interface Reporter {
  report(severity: Severity, code: string, message: string, range: Range, extra?: Partial<Diagnostic>): void;
}

type CommissionAst = Extract<StudyStatementAst, { kind: 'commission' }>;
type SlippageAst = Extract<StudyStatementAst, { kind: 'slippage' }>;

/** A number literal's value (a percent as written: `0.1%` → 0.1 with `percent`), else a finding and undefined. */
function num(l: LiteralAst | undefined, what: string, r: Reporter): { v: number; percent: boolean; text: string; range: Range } | undefined {
  if (!l) return undefined;
  if (l.kind !== 'number') {
    r.report('error', IssueCodes.InvalidValue, `${what} expects a number, not ${l.kind === 'string' ? 'a string' : l.kind === 'bool' ? 'true/false' : `a ${l.kind}`}`, l.range);
    return undefined;
  }
  return { v: l.value, percent: l.percent === true, text: l.text, range: l.range };
}

/** Applies a `commission` statement to the model. */
export function applyCommission(st: CommissionAst, model: StudyModel, r: Reporter): void {
  const a = num(st.value, 'commission', r);
  if (!a) return;
  if (!st.per) return percentCommission(a, model, r);
  if (st.per.name !== 'per' || !st.unit || (st.unit.name !== 'share' && st.unit.name !== 'contract')) {
    const at = st.per.name === 'per' && st.unit ? st.unit : st.per;
    const guess = closest(at.name, ['per', 'share', 'contract']);
    r.report('error', IssueCodes.CommissionUnit, `after the commission amount write 'per share' or 'per contract margin M mult K', not '${at.name}'` + (guess ? `: did you mean '${guess}'?` : ''), at.range);
    return;
  }
  if (a.percent || a.v < 0) {
    r.report('error', IssueCodes.CommissionOutOfRange, `a commission per ${st.unit.name} is an amount of money >= 0 (e.g. 0.005), not ${a.text}`, a.range);
    return;
  }
  const opts = new Map<string, number>();
  for (const o of st.options) {
    if (st.unit.name === 'share' || (o.key.name !== 'margin' && o.key.name !== 'mult')) {
      const what = st.unit.name === 'share' ? "a commission per share takes no options (margin and mult are for 'per contract')" : `'${o.key.name}' is not an option of a contract commission (margin, mult)`;
      r.report('error', IssueCodes.CommissionUnit, what, o.key.range);
      continue;
    }
    const v = num(o.value, o.key.name, r);
    if (!v) continue;
    if (v.percent || !(v.v > 0)) r.report('error', IssueCodes.CommissionContract, `${o.key.name} must be a number > 0 (${o.key.name === 'margin' ? 'the cash held per contract' : 'the contract multiplier'}), not ${v.text}`, v.range);
    else opts.set(o.key.name, v.v);
  }
  model.commission = 0;
  if (st.unit.name === 'share') {
    model.commissionScheme = { kind: 'per_share', amount: a.v };
    return;
  }
  const margin = opts.get('margin');
  const mult = opts.get('mult');
  if (margin === undefined || mult === undefined) {
    if (!st.options.some((o) => (o.key.name === 'margin' || o.key.name === 'mult') && !opts.has(o.key.name)))
      r.report('error', IssueCodes.CommissionContract, `a commission per contract needs ${margin === undefined ? 'margin M (cash held per contract)' : ''}${margin === undefined && mult === undefined ? ' and ' : ''}${mult === undefined ? 'mult K (the contract multiplier)' : ''}, e.g. 'commission 2.5 per contract margin 2000 mult 10'`, st.unit.range);
    return;
  }
  model.commissionScheme = { kind: 'per_contract', amount: a.v, margin, mult };
}

function percentCommission(a: { v: number; percent: boolean; text: string; range: Range }, model: StudyModel, r: Reporter): void {
  const f = a.percent ? a.v / 100 : a.v;
  if (!(f >= 0 && f < 1)) {
    r.report('error', IssueCodes.CommissionOutOfRange, `commission must be at least 0% and below 100%, not ${a.text}` + (a.percent ? '' : ' (a bare number is a fraction: 0.001 = 0.1%)'), a.range);
    return;
  }
  model.commission = f;
  // `commission 0.1` is 10%: almost always meant as 0.1%.
  if (!a.percent && f >= 0.05)
    r.report('warning', IssueCodes.CommissionAsFraction, `a bare commission is a fraction: ${a.text} is ${Number((f * 100).toFixed(6))}% per side. Did you mean ${a.text}%?`, a.range, {
      data: { replacement: `${a.text}%` },
    });
}

/** Applies a `slippage` statement to the model. */
export function applySlippage(st: SlippageAst, model: StudyModel, r: Reporter): void {
  const a = num(st.value, 'slippage', r);
  if (!a) return;
  if (a.percent) {
    const f = a.v / 100;
    if (!(f >= 0 && f < 1)) r.report('error', IssueCodes.SlippageOutOfRange, `slippage must be at least 0% and below 100%, not ${a.text}`, a.range);
    else {
      model.slippage = { kind: 'percent', rate: f };
      if (f >= 0.01) r.report('warning', IssueCodes.SlippageOutOfRange, `${a.text} slippage is large: every fill moves ${a.text} against the order (typical values are 0.01% to 0.1%)`, a.range);
    }
    return;
  }
  if (!(a.v >= 0)) r.report('error', IssueCodes.SlippageOutOfRange, `slippage is a price amount >= 0 (e.g. 0.02) or a percent (0.05%), not ${a.text}`, a.range);
  else model.slippage = { kind: 'fixed', amount: a.v };
}

/** External strategies (command, backtrader) run their own broker: say which costs OptStudy cannot pass them. */
export function checkExternalCosts(model: StudyModel, ranges: { commission?: Range; slippage?: Range }, r: Reporter): void {
  const kind = model.strategy?.kind;
  if (kind === undefined || kind === 'builtin' || kind === 'module') return;
  if (model.commissionScheme && ranges.commission)
    r.report('warning', IssueCodes.CostsExternal, `an external strategy only receives a percent commission; set a ${model.commissionScheme.kind === 'per_share' ? 'per-share' : 'per-contract'} commission in its own broker`, ranges.commission);
  if (model.slippage && ranges.slippage) r.report('warning', IssueCodes.CostsExternal, 'an external strategy does not receive the slippage; set it in its own broker', ranges.slippage);
}
