/**
 * `optstudy backtest --backtrader FILE.py:NAME [options]`: one backtest of a backtrader factory
 * or strategy class through the bridge, in the current folder, printed like `optstudy backtest`
 * (a table, or `--json`: `{"metrics":{...},"trades":[...]}` with the standard metrics and the
 * user's analyzers flattened).
 */
import * as path from 'node:path';
import type { ParamValues } from '../../../protocol/run-events';
import type { TaskPayload } from '../../executor/executor';
import { runBacktraderOnce } from './backtrader-executor';

export const BACKTRADER_BACKTEST_HELP = `Usage: optstudy backtest --backtrader FILE.py:NAME [options]

One backtest of a backtrader cerebro factory (NAME(**params) -> bt.Cerebro) or bt.Strategy
class, run by real backtrader in the current folder (docs/backtrader.md).

Options:
  --data FILE              price file(s) for a strategy class (repeat for several feeds)
  --param k=v              a parameter (repeat for several)
  --cash N --commission C --sizing fixed:N|percent:N   the default Cerebro's broker (class form)
  --from DATE, --to DATE   the window set on every feed, inclusive days (YYYY-MM-DD)
  --json                   print {"metrics":{...},"trades":[...]}
`;

interface Io {
  out(s: string): void;
  err(s: string): void;
}

function value(raw: string): number | string | boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  const n = Number(raw);
  return raw !== '' && Number.isFinite(n) ? n : raw.replace(/^["']|["']$/g, '');
}

function parse(args: string[]): { spec: string; payload: TaskPayload; params: ParamValues; json: boolean } | string {
  let spec = '';
  const datas: string[] = [];
  const params: ParamValues = {};
  const config: TaskPayload['config'] = { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } };
  let from: string | undefined;
  let to: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--backtrader') spec = next();
    else if (a === '--data') datas.push(path.resolve(next()));
    else if (a === '--param') {
      const [k, ...rest] = next().split('=');
      if (!k || !rest.length) return `--param takes k=v`;
      params[k] = value(rest.join('='));
    } else if (a === '--cash') config.cash = Number(next());
    else if (a === '--commission') {
      const t = next();
      config.commission = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
    } else if (a === '--sizing') {
      const m = /^(fixed|percent):(\d+(?:\.\d+)?)$/.exec(next());
      if (!m) return '--sizing takes fixed:N or percent:N';
      config.sizing = { kind: m[1] as 'fixed' | 'percent', value: Number(m[2]) };
    } else if (a === '--from') from = next();
    else if (a === '--to') to = next();
    else if (a === '--json') json = true;
    else return `unknown option '${a}'`;
  }
  if (!/^[^:]+:[A-Za-z_]\w*$/.test(spec)) return '--backtrader takes FILE.py:NAME or module:NAME';
  if (!Number.isFinite(config.cash) || !Number.isFinite(config.commission as number)) return '--cash and --commission take numbers';
  const payload: TaskPayload = {
    data: { file: datas[0] ?? '', from, to },
    strategy: { kind: 'backtrader', spec, cwd: process.cwd() },
    config,
  };
  if (datas.length > 1) (payload as TaskPayload & { datas?: { file: string }[] }).datas = datas.map((file) => ({ file }));
  return { spec, payload, params, json };
}

/** The command. Exit 0 on success, 2 on bad arguments, 1 when the backtest fails. */
export async function backtraderBacktestCommand(args: string[], io: Io): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(BACKTRADER_BACKTEST_HELP);
    return 0;
  }
  let p: ReturnType<typeof parse>;
  try {
    p = parse(args);
  } catch (e) {
    p = (e as Error).message;
  }
  if (typeof p === 'string') {
    io.err(`optstudy backtest: ${p}\n\n${BACKTRADER_BACKTEST_HELP}`);
    return 2;
  }
  let r: Awaited<ReturnType<typeof runBacktraderOnce>>;
  try {
    r = await runBacktraderOnce(p.payload, p.params);
  } catch (e) {
    io.err(`optstudy backtest: ${(e as Error).message}\n`);
    return 1;
  }
  const { metrics, trades } = r;
  if (p.json) io.out(JSON.stringify({ metrics, trades }) + '\n');
  else {
    const w = Math.max(...Object.keys(metrics).map((k) => k.length));
    const fmt = (v: number | null): string => (v === null ? '—' : Number.isInteger(v) ? String(v) : v.toPrecision(6));
    io.out(`${p.spec} ${Object.entries(p.params).map(([k, v]) => `${k}=${v}`).join(' ')}\n\n`);
    for (const [k, v] of Object.entries(metrics)) io.out(`  ${k.padEnd(w)}  ${fmt(v)}\n`);
    io.out(`\n${trades.length} closed trades\n`);
  }
  return 0;
}
