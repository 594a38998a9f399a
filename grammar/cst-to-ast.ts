/**
 * CST → AST. Total: a CST left incomplete by error recovery gives an AST with holes (optional
 * fields left out, `error` expressions), never an exception. Tokens the parser inserted while
 * recovering count as missing.
 */

import type { CstElement, CstNode, IToken } from 'chevrotain';
import type {
  BinaryOp,
  DomainAst,
  EarlyStopAst,
  Expr,
  FileAst,
  Ident,
  LiteralAst,
  DataAst,
  OptionAst,
  Range,
  SearchAst,
  SpaceParamAst,
  StageAst,
  StrategyDeclAst,
  StudyAst,
  StudyStatementAst,
  WhereAst,
} from './model';
import type { LineIndex } from './positions';

function isNode(e: CstElement): e is CstNode {
  return (e as CstNode).children !== undefined;
}

function realToken(t: IToken | undefined): IToken | undefined {
  if (!t || t.isInsertedInRecovery || !Number.isFinite(t.startOffset)) return undefined;
  return t;
}

/** Unescapes a string token (`"a\"b"` → `a"b`); an unterminated one keeps what was typed. */
export function stringValue(image: string): string {
  const closed = image.length >= 2 && image.endsWith('"') && !image.endsWith('\\"');
  const body = image.slice(1, closed ? -1 : undefined);
  return body.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/** A duration's milliseconds (`30s` → 30000, `500ms` → 500, `2m` → 120000, `1h` → 3600000). */
export function durationMs(image: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(image);
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return Math.round(n * unit);
}

const STUDY_STATEMENTS = ['dataStmt', 'valueStmt', 'commissionStmt', 'sizingStmt', 'strategyRef', 'objectiveStmt', 'objectivesStmt', 'constraintStmt', 'stage', 'earlyStop', 'validateStmt', 'executorStmt', 'warmStartStmt'] as const;
const STAGE_STATEMENTS = ['searchStmt', 'spaceParam', 'whereStmt', 'earlyStop'] as const;

class Converter {
  constructor(private readonly lines: LineIndex) {}

  tokRange(t: IToken): Range {
    return this.lines.range(t.startOffset, (t.endOffset ?? t.startOffset + t.image.length - 1) + 1);
  }

  tok(node: CstNode | undefined, key: string, i = 0): IToken | undefined {
    const arr = node?.children[key];
    const e = arr?.[i];
    return e && !isNode(e) ? realToken(e) : undefined;
  }

  toks(node: CstNode | undefined, key: string): IToken[] {
    const out: IToken[] = [];
    for (const e of node?.children[key] ?? []) if (!isNode(e)) {
      const t = realToken(e);
      if (t) out.push(t);
    }
    return out;
  }

  sub(node: CstNode | undefined, key: string, i = 0): CstNode | undefined {
    const e = node?.children[key]?.[i];
    return e && isNode(e) ? e : undefined;
  }

  subs(node: CstNode | undefined, key: string): CstNode[] {
    return (node?.children[key] ?? []).filter(isNode);
  }

  /** First and last real tokens under a node (in document order). */
  private bounds(node: CstNode): [number, number] | undefined {
    const loc = node.location;
    if (loc && Number.isFinite(loc.startOffset) && Number.isFinite(loc.endOffset)) return [loc.startOffset, loc.endOffset!];
    let lo = Infinity;
    let hi = -Infinity;
    for (const key in node.children) {
      for (const e of node.children[key]!) {
        if (isNode(e)) {
          const b = this.bounds(e);
          if (b) {
            lo = Math.min(lo, b[0]);
            hi = Math.max(hi, b[1]);
          }
        } else {
          const t = realToken(e);
          if (t) {
            lo = Math.min(lo, t.startOffset);
            hi = Math.max(hi, t.endOffset ?? t.startOffset);
          }
        }
      }
    }
    return Number.isFinite(lo) ? [lo, hi] : undefined;
  }

  nodeRange(node: CstNode | undefined, fallback: Range): Range {
    const b = node ? this.bounds(node) : undefined;
    return b ? this.lines.range(b[0], b[1] + 1) : fallback;
  }

  ident(t: IToken | undefined): Ident | undefined {
    return t ? { name: t.image, range: this.tokRange(t) } : undefined;
  }

  str(t: IToken | undefined): { value: string; range: Range } | undefined {
    return t ? { value: stringValue(t.image), range: this.tokRange(t) } : undefined;
  }

  nameNode(node: CstNode | undefined): Ident | undefined {
    return this.ident(this.tok(node, 'Identifier') ?? this.tok(node, 'Keyword'));
  }

  /** The statement nodes of a block, in document order (the CST groups them by rule). */
  statementNodes(n: CstNode, rules: readonly string[]): CstNode[] {
    const out: CstNode[] = [];
    for (const r of rules) for (const c of n.children[r] ?? []) if (isNode(c)) out.push(c);
    if (out.length > 1) out.sort((a, b) => (this.bounds(a)?.[0] ?? 0) - (this.bounds(b)?.[0] ?? 0));
    return out;
  }

  // -----------------------------------------------------------------------------------------

  file(cst: CstNode): FileAst {
    const items: FileAst['items'] = [];
    const whole = this.lines.fullRange;
    // Children of `file` are grouped by rule; restore document order by offset.
    const all = [...this.subs(cst, 'strategyDecl'), ...this.subs(cst, 'study')];
    all.sort((a, b) => (this.bounds(a)?.[0] ?? 0) - (this.bounds(b)?.[0] ?? 0));
    for (const n of all) {
      if (n.name === 'strategyDecl') items.push(this.strategyDecl(n, whole));
      else items.push(this.study(n, whole));
    }
    return { range: whole, items };
  }

  strategyDecl(n: CstNode, fb: Range): StrategyDeclAst {
    const range = this.nodeRange(n, fb);
    const cmd = this.tok(n, 'Command') ? this.str(this.tok(n, 'StringLit')) : undefined;
    const mod = this.tok(n, 'Module') ? this.str(this.tok(n, 'StringLit')) : undefined;
    const btSpec = this.tok(n, 'Backtrader') ? this.str(this.tok(n, 'StringLit')) : undefined;
    return {
      kind: 'strategyDecl',
      range,
      name: this.ident(this.tok(n, 'Identifier')),
      command: cmd,
      module: mod,
      backtrader: btSpec,
      params: this.subs(n, 'paramDecl').map((p) => {
        const pr = this.nodeRange(p, range);
        return {
          range: pr,
          name: this.nameNode(this.sub(p, 'name')),
          type: this.ident(this.tok(p, 'type')),
          default: this.literal(this.sub(p, 'literal'), pr),
        };
      }),
    };
  }

  study(n: CstNode, fb: Range): StudyAst {
    const range = this.nodeRange(n, fb);
    const kwTok = this.tok(n, 'Study');
    const nameTok = this.tok(n, 'StringLit');
    const head = kwTok ? (nameTok ? { start: this.tokRange(kwTok).start, end: this.tokRange(nameTok).end } : this.tokRange(kwTok)) : range;
    const statements: StudyStatementAst[] = [];
    for (const inner of this.statementNodes(n, STUDY_STATEMENTS)) {
      const st = this.studyStatement(inner, range);
      if (st) statements.push(st);
    }
    return { kind: 'study', range, headRange: head, name: this.str(nameTok), statements, complete: this.tok(n, 'RBrace') !== undefined };
  }

  studyStatement(n: CstNode, fb: Range): StudyStatementAst | undefined {
    const range = this.nodeRange(n, fb);
    switch (n.name) {
      case 'dataStmt':
        return this.data(n, range);
      case 'valueStmt': {
        const key = this.tok(n, 'key');
        if (!key) return undefined;
        const kind = key.image as 'cash' | 'slippage' | 'workers' | 'seed' | 'timeout' | 'retries';
        return { kind, range, value: this.literal(this.sub(n, 'literal'), range) };
      }
      case 'commissionStmt': {
        const values = this.subs(n, 'optionValue');
        return {
          kind: 'commission',
          range,
          value: this.literal(this.sub(n, 'literal'), range),
          per: this.ident(this.tok(n, 'per')),
          unit: this.ident(this.tok(n, 'unit')),
          options: this.toks(n, 'option').map((t, k) => ({ key: this.ident(t)!, value: this.literal(values[k], this.tokRange(t)) })),
        };
      }
      case 'sizingStmt':
        return { kind: 'sizing', range, mode: this.ident(this.tok(n, 'mode')), value: this.literal(this.sub(n, 'literal'), range) };
      case 'strategyRef':
        return {
          kind: 'strategy',
          range,
          name: this.ident(this.tok(n, 'Identifier')),
          module: this.tok(n, 'Module') ? this.str(this.tok(n, 'StringLit')) : undefined,
          overrides: this.subs(n, 'override').map((o) => {
            const r = this.nodeRange(o, range);
            return { name: this.nameNode(this.sub(o, 'name')), value: this.literal(this.sub(o, 'literal'), r), range: r };
          }),
        };
      case 'objectiveStmt':
        return {
          kind: 'objective',
          range,
          direction: this.direction(this.sub(n, 'direction')),
          expr: this.exprOpt(this.sub(n, 'expression'), range),
        };
      case 'objectivesStmt':
        return {
          kind: 'objectives',
          range,
          items: this.subs(n, 'objectiveItem').map((it) => {
            const r = this.nodeRange(it, range);
            return { direction: this.direction(this.sub(it, 'direction')), expr: this.exprOpt(this.sub(it, 'expression'), r), range: r };
          }),
        };
      case 'constraintStmt':
        return { kind: 'constraint', range, expr: this.exprOpt(this.sub(n, 'expression'), range) };
      case 'stage':
        return this.stage(n, range);
      case 'earlyStop':
        return this.earlyStop(n, range);
      case 'validateStmt': {
        const block = this.sub(n, 'optionBlock');
        return {
          kind: 'validate',
          range,
          method: this.ident(this.tok(n, 'method')),
          value: this.literal(this.sub(n, 'literal'), range),
          options: block ? this.options(block, range) : [],
        };
      }
      case 'executorStmt':
        return { kind: 'executor', range, type: this.ident(this.tok(n, 'type')), url: this.str(this.tok(n, 'StringLit')) };
      case 'warmStartStmt':
        return { kind: 'warm_start', range, path: this.str(this.tok(n, 'StringLit')) };
      default:
        return undefined;
    }
  }

  direction(n: CstNode | undefined): Ident | undefined {
    return this.ident(this.tok(n, 'Maximize') ?? this.tok(n, 'Minimize'));
  }

  earlyStop(n: CstNode, range: Range): EarlyStopAst {
    const block = this.sub(n, 'optionBlock');
    return { kind: 'early_stop', range, options: block ? this.options(block, range) : [] };
  }

  options(n: CstNode, fb: Range): OptionAst[] {
    const out: OptionAst[] = [];
    for (const o of this.subs(n, 'optionItem')) {
      const key = this.ident(this.tok(o, 'key'));
      if (!key) continue;
      const r = this.nodeRange(o, fb);
      const block = this.sub(o, 'optionBlock');
      out.push(block ? { key, block: this.options(block, r), range: r } : { key, value: this.literal(this.sub(o, 'literal'), r), range: r });
    }
    return out;
  }

  data(n: CstNode, range: Range): DataAst {
    const list = this.sub(n, 'pathList');
    const paths = (list ? this.toks(list, 'StringLit') : this.toks(n, 'StringLit')).map((t) => this.str(t)!).filter((p) => p !== undefined);
    const block = this.sub(n, 'optionBlock');
    const basket = this.tok(n, 'Basket');
    return {
      kind: 'data',
      range,
      path: paths[0],
      paths,
      ...(list ? { list: this.nodeRange(list, range) } : {}),
      ...(basket ? { basket: this.tokRange(basket) } : {}),
      from: this.tok(n, 'From') ? this.literal(this.sub(n, 'from'), range) : undefined,
      to: this.tok(n, 'To') ? this.literal(this.sub(n, 'to'), range) : undefined,
      options: block ? this.options(block, range) : [],
    };
  }

  stage(n: CstNode, range: Range): StageAst {
    const kwTok = this.tok(n, 'Stage');
    const nameTok = this.tok(n, 'StringLit');
    const head = kwTok ? (nameTok ? { start: this.tokRange(kwTok).start, end: this.tokRange(nameTok).end } : this.tokRange(kwTok)) : range;
    const statements: StageAst['statements'] = [];
    for (const inner of this.statementNodes(n, STAGE_STATEMENTS)) {
      const r = this.nodeRange(inner, range);
      if (inner.name === 'searchStmt') {
        const block = this.sub(inner, 'optionBlock');
        const st: SearchAst = { kind: 'search', range: r, method: this.ident(this.tok(inner, 'method')), options: block ? this.options(block, r) : [] };
        statements.push(st);
      } else if (inner.name === 'spaceParam') {
        const st: SpaceParamAst = { kind: 'param', range: r, name: this.nameNode(this.sub(inner, 'name')), domain: this.domain(this.sub(inner, 'domain'), r) };
        statements.push(st);
      } else if (inner.name === 'whereStmt') {
        const st: WhereAst = { kind: 'where', range: r, expr: this.exprOpt(this.sub(inner, 'expression'), r) };
        statements.push(st);
      } else if (inner.name === 'earlyStop') {
        statements.push(this.earlyStop(inner, r));
      }
    }
    return { kind: 'stage', range, headRange: head, name: this.str(nameTok), statements };
  }

  domain(n: CstNode | undefined, fb: Range): DomainAst | undefined {
    if (!n) return undefined;
    const range = this.nodeRange(n, fb);
    if (this.tok(n, 'LBracket')) {
      const items = this.subs(n, 'literal')
        .map((l) => this.literal(l, range))
        .filter((x): x is LiteralAst => x !== undefined);
      const values = items.map((it) =>
        it.kind === 'number' ? (it.percent ? it.value / 100 : it.value) : it.kind === 'duration' ? it.ms : it.value,
      );
      // A list is complete only with its closing bracket; without it the domain is a hole.
      const closed = this.tok(n, 'RBracket') !== undefined;
      return { range, items, domain: closed ? { kind: 'list', values } : undefined };
    }
    const lo = this.number(this.sub(n, 'lo'), range);
    const hi = this.number(this.sub(n, 'hi'), range);
    const isLog = this.tok(n, 'Log') !== undefined;
    if (isLog) {
      const count = this.number(this.sub(n, 'count'), range);
      const ok = lo && hi && count;
      return {
        range,
        lo,
        hi,
        count,
        isLog,
        domain: ok ? { kind: 'log', lo: lo.value, hi: hi.value, count: count.value } : undefined,
      };
    }
    const step = this.tok(n, 'Step') ? this.number(this.sub(n, 'step'), range) : undefined;
    const hasStepKw = this.tok(n, 'Step') !== undefined;
    let domain: DomainAst['domain'];
    if (lo && hi) {
      if (step) domain = { kind: 'range', lo: lo.value, hi: hi.value, step: step.value };
      else if (!hasStepKw) domain = { kind: 'continuous', lo: lo.value, hi: hi.value };
    }
    return { range, lo, hi, step, domain };
  }

  number(n: CstNode | undefined, fb: Range): Extract<LiteralAst, { kind: 'number' }> | undefined {
    const lit = n ? this.signedNumber(n, fb) : undefined;
    return lit;
  }

  signedNumber(n: CstNode, fb: Range): Extract<LiteralAst, { kind: 'number' }> | undefined {
    const t = this.tok(n, 'NumberLit');
    if (!t) return undefined;
    const minus = this.tok(n, 'Minus');
    const percent = t.image.endsWith('%');
    const abs = Number(percent ? t.image.slice(0, -1) : t.image);
    const range = minus ? { start: this.tokRange(minus).start, end: this.tokRange(t).end } : this.tokRange(t);
    void fb;
    return { kind: 'number', value: minus ? -abs : abs, percent, text: (minus ? '-' : '') + t.image, range };
  }

  literal(n: CstNode | undefined, fb: Range): LiteralAst | undefined {
    if (!n) return undefined;
    if (n.children['NumberLit']) return this.signedNumber(n, fb);
    let t: IToken | undefined;
    if ((t = this.tok(n, 'StringLit'))) return { kind: 'string', value: stringValue(t.image), range: this.tokRange(t) };
    if ((t = this.tok(n, 'DateLit'))) return { kind: 'date', value: t.image, range: this.tokRange(t) };
    if ((t = this.tok(n, 'Duration'))) return { kind: 'duration', ms: durationMs(t.image), text: t.image, range: this.tokRange(t) };
    if ((t = this.tok(n, 'True'))) return { kind: 'bool', value: true, range: this.tokRange(t) };
    if ((t = this.tok(n, 'False'))) return { kind: 'bool', value: false, range: this.tokRange(t) };
    if ((t = this.tok(n, 'Identifier'))) return { kind: 'ident', value: t.image, range: this.tokRange(t) };
    return undefined;
  }

  // Expressions ------------------------------------------------------------------------------

  exprOpt(n: CstNode | undefined, fb: Range): Expr | undefined {
    if (!n) return undefined;
    const e = this.expr(n, fb);
    return e.kind === 'error' && !this.bounds(n) ? undefined : e;
  }

  hole(n: CstNode | undefined, fb: Range): Expr {
    return { kind: 'error', range: this.nodeRange(n, fb) };
  }

  expr(n: CstNode | undefined, fb: Range): Expr {
    if (!n) return this.hole(n, fb);
    const operands = this.subs(n, 'operands');
    const ops = (n.children['ops'] ?? []).filter((e): e is IToken => !isNode(e) && realToken(e) !== undefined);
    if (operands.length === 0) return this.hole(n, fb);
    return new Climber(this, operands, ops, fb).run();
  }

  atom(n: CstNode | undefined, fb: Range): Expr {
    if (!n) return this.hole(n, fb);
    let t: IToken | undefined;
    if ((t = this.tok(n, 'NumberLit'))) {
      const percent = t.image.endsWith('%');
      const v = Number(percent ? t.image.slice(0, -1) : t.image);
      return { kind: 'number', value: percent ? v / 100 : v, range: this.tokRange(t) };
    }
    if ((t = this.tok(n, 'StringLit'))) return { kind: 'string', value: stringValue(t.image), range: this.tokRange(t) };
    if ((t = this.tok(n, 'True'))) return { kind: 'bool', value: true, range: this.tokRange(t) };
    if ((t = this.tok(n, 'False'))) return { kind: 'bool', value: false, range: this.tokRange(t) };
    const name = this.tok(n, 'Identifier') ?? this.tok(n, 'Log');
    if (name) {
      const nr = this.tokRange(name);
      const lp = this.tok(n, 'LParen');
      if (!lp) return { kind: 'name', name: name.image, range: nr };
      const args = this.subs(n, 'args').map((a) => this.expr(a, this.nodeRange(a, nr)));
      const rp = this.tok(n, 'RParen');
      const end = rp ? this.tokRange(rp).end : args.length ? args[args.length - 1]!.range.end : this.tokRange(lp).end;
      return { kind: 'call', fn: name.image, fnRange: nr, args, range: { start: nr.start, end } };
    }
    const inner = this.sub(n, 'inner');
    if (inner || this.tok(n, 'LParen')) {
      const e = this.expr(inner, this.nodeRange(n, fb));
      // Parentheses widen the range so errors point at what the user sees as one unit.
      return { ...e, range: this.nodeRange(n, e.range) } as Expr;
    }
    return this.hole(n, fb);
  }
}

/** Binding powers: `or` < `and` < `not` < comparisons < `+ -` < `* /` < unary `-` < `^`. */
const BINARY_PREC: Record<string, number> = { or: 1, and: 2, '<': 4, '<=': 4, '>': 4, '>=': 4, '==': 4, '!=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '^': 8 };
const NOT_PREC = 3;
const NEG_PREC = 7;

/**
 * Precedence climbing over a flat `operand (op operand)*` list. Iterative for
 * left-associative chains; recursion depth is bounded by the precedence levels plus the
 * prefix and `^` runs (which the parser caps).
 */
class Climber {
  private i = 0; // next operand
  private prefix = 0; // next prefix of operand i
  constructor(
    private readonly c: Converter,
    private readonly operands: CstNode[],
    private readonly ops: IToken[],
    private readonly fb: Range,
  ) {}

  run(): Expr {
    return this.climb(0);
  }

  private unary(): Expr {
    const node = this.operands[this.i];
    if (!node) {
      // An operator with nothing after it: a hole just after the operator.
      const op = this.ops[this.i - 1];
      const at = op ? this.c.tokRange(op).end : this.fb.end;
      this.i++;
      this.prefix = 0;
      return { kind: 'error', range: { start: at, end: at } };
    }
    const prefixes = (node.children['prefix'] ?? []).filter((e): e is IToken => !isNode(e) && realToken(e) !== undefined);
    if (this.prefix < prefixes.length) {
      const p = prefixes[this.prefix++]!;
      const pr = this.c.tokRange(p);
      const operand = this.climb(p.image === 'not' ? NOT_PREC + 1 : NEG_PREC + 1);
      if (p.image === 'not') return { kind: 'unary', op: 'not', operand, range: { start: pr.start, end: operand.range.end } };
      // Fold `-3` into a number literal, so domains and constant checks see a number.
      if (operand.kind === 'number') return { kind: 'number', value: -operand.value, range: { start: pr.start, end: operand.range.end } };
      return { kind: 'unary', op: '-', operand, range: { start: pr.start, end: operand.range.end } };
    }
    const atomNode = node.children['atom']?.[0];
    const e = this.c.atom(atomNode && isNode(atomNode) ? atomNode : undefined, this.c.nodeRange(node, this.fb));
    this.i++;
    this.prefix = 0;
    return e;
  }

  private climb(minPrec: number): Expr {
    let left = this.unary();
    for (;;) {
      // The operator after the operand just read is ops[i - 1].
      const op = this.ops[this.i - 1];
      if (!op) break;
      const prec = BINARY_PREC[op.image] ?? 0;
      if (prec < minPrec) break;
      const right = this.climb(op.image === '^' ? prec : prec + 1);
      left = {
        kind: 'binary',
        op: op.image as BinaryOp,
        left,
        right,
        range: { start: left.range.start, end: right.range.end },
        opRange: this.c.tokRange(op),
      };
    }
    return left;
  }
}

/** Converts a `file` CST to its AST. */
export function cstToAst(cst: CstNode, lines: LineIndex): FileAst {
  return new Converter(lines).file(cst);
}

/** Converts a `studyBody` CST (some statements of a study, parsed on their own) to their ASTs. */
export function studyPartToAst(cst: CstNode, lines: LineIndex): StudyStatementAst[] {
  const c = new Converter(lines);
  const whole = lines.fullRange;
  const out: StudyStatementAst[] = [];
  for (const n of c.statementNodes(cst, STUDY_STATEMENTS)) {
    const st = c.studyStatement(n, whole);
    if (st) out.push(st);
  }
  return out;
}
