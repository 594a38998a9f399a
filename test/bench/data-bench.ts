/**
 * `npm run bench -- data`: how fast price files load — rows per second for a 1,000,000-row
 * 1-minute file in the layouts people export (backtrader's `Date,Time` columns, one ISO
 * datetime column, epoch seconds, a day-first date read through `date_format`), gzip'ed, and
 * as Parquet (the ISO file's bars with microsecond timestamps, snappy, as hyparquet-writer
 * writes it) —
 * and how fast a basket trial runs (three symbols, one backtest each plus the summed account).
 * The files are written (deterministic random walks) into a temporary folder removed at the end.
 * Figures go here, never into tests; the load average is printed beside them.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { basketClock, runBasket } from '../../server/data/basket';
import { loadPrices, type LoadOptions } from '../../server/data';
import { pricesParquet } from '../data/parquet-files';

const ROWS = Number(process.env.OPTSTUDY_BENCH_ROWS ?? 1_000_000);
const ROOT = path.resolve(__dirname, '..', '..', '..');

/** One row per minute, 24 h a day from 2020-01-01, a seeded random walk. */
function minuteRows(n: number, stamp: (y: number, mo: number, d: number, h: number, mi: number, epoch: number) => string): string[] {
  let seed = 12345;
  // Math.imul keeps the LCG in 32 bits (a float product would lose bits and drift the walk).
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const out: string[] = [];
  let px = 100;
  const t0 = Date.UTC(2020, 0, 1) / 1000;
  for (let i = 0; i < n; i++) {
    const epoch = t0 + i * 60;
    const dt = new Date(epoch * 1000);
    const o = px;
    const c = Math.max(1, o * (1 + (rnd() - 0.5) * 0.002));
    const h = Math.max(o, c) * (1 + rnd() * 0.0005);
    const l = Math.min(o, c) * (1 - rnd() * 0.0005);
    px = c;
    out.push(`${stamp(dt.getUTCFullYear(), dt.getUTCMonth() + 1, dt.getUTCDate(), dt.getUTCHours(), dt.getUTCMinutes(), epoch)},${o.toFixed(4)},${h.toFixed(4)},${l.toFixed(4)},${c.toFixed(4)},${Math.floor(rnd() * 1000)}`);
  }
  return out;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/**
 * Best and median of `runs` loads: wall time and this process's CPU time (user + system, which
 * a loaded machine inflates less than the wall clock), with rows/s of the best of each.
 */
function timeLoad(file: string, options: LoadOptions, runs = 5): Record<string, number> {
  const wall: number[] = [];
  const cpu: number[] = [];
  let bars = 0;
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    bars = loadPrices(file, undefined, options).bars;
    wall.push(Number(process.hrtime.bigint() - t) / 1e6);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1000);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    bars,
    best_wall_ms: r(wall[0]!),
    median_wall_ms: r(wall[wall.length >> 1]!),
    best_cpu_ms: r(cpu[0]!),
    rows_per_s_wall: Math.round((ROWS / wall[0]!) * 1000),
    rows_per_cpu_s: Math.round((ROWS / cpu[0]!) * 1000),
  };
}

function main(): void {
  const load0 = os.loadavg()[0]!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-data-bench-'));
  try {
    const layouts: Record<string, { header: string; stamp: Parameters<typeof minuteRows>[1]; options?: LoadOptions }> = {
      date_time_columns: { header: 'Date,Time,Open,High,Low,Close,Volume', stamp: (y, mo, d, h, mi) => `${y}-${p2(mo)}-${p2(d)},${p2(h)}:${p2(mi)}:00` },
      iso_datetime: { header: 'Datetime,Open,High,Low,Close,Volume', stamp: (y, mo, d, h, mi) => `${y}-${p2(mo)}-${p2(d)}T${p2(h)}:${p2(mi)}:00` },
      epoch_seconds: { header: 'Timestamp,Open,High,Low,Close,Volume', stamp: (_y, _mo, _d, _h, _mi, e) => String(e) },
      day_first_date_format: {
        header: 'Datum,Open,High,Low,Close,Volume',
        stamp: (y, mo, d, h, mi) => `${p2(d)}.${p2(mo)}.${y} ${p2(h)}:${p2(mi)}`,
        options: { dateFormat: 'DD.MM.YYYY hh:mm', columns: { date: 'Datum' } },
      },
    };
    const results: Record<string, unknown> = {};
    for (const [name, l] of Object.entries(layouts)) {
      const text = `${l.header}\n${minuteRows(ROWS, l.stamp).join('\n')}\n`;
      const file = path.join(dir, `${name}.csv`);
      writeFileSync(file, text);
      results[name] = { mib: Math.round((text.length / 2 ** 20) * 10) / 10, ...timeLoad(file, l.options ?? {}) };
      if (name === 'date_time_columns') {
        const gz = path.join(dir, `${name}.csv.gz`);
        writeFileSync(gz, gzipSync(text));
        results[`${name}_gzip`] = timeLoad(gz, {});
      }
      process.stderr.write(`data-bench ${name}: ${JSON.stringify(results[name])}\n`);
    }
    const parquet = path.join(dir, 'minutes.parquet');
    writeFileSync(parquet, pricesParquet(loadPrices(path.join(dir, 'iso_datetime.csv')), 'timestamp-us'));
    results.parquet_timestamp_us = { mib: Math.round((statSync(parquet).size / 2 ** 20) * 10) / 10, ...timeLoad(parquet, {}) };
    process.stderr.write(`data-bench parquet_timestamp_us: ${JSON.stringify(results.parquet_timestamp_us)}\n`);
    // A basket trial: the SMA cross on ORCL, YHOO and NVDA 2005–2014, one backtest per symbol.
    const datas = ['orcl-1995-2014.txt', 'yhoo-1996-2014.txt', 'nvda-1999-2014.txt'].map((f) => loadPrices(path.join(ROOT, 'samples', 'data', f), { from: '2005-01-01', to: '2014-12-31' }));
    const clock = basketClock(datas);
    const config = { cash: 100000, commission: 0.001, sizing: { kind: 'percent' as const, value: 95 } };
    let n = 0;
    const t = process.hrtime.bigint();
    for (let fast = 5; fast <= 50; fast += 5) for (let slow = 20; slow <= 200; slow += 20) if (fast < slow) (runBasket(datas, clock, 'sma_cross', { fast, slow }, config), n++);
    const basketMs = Number(process.hrtime.bigint() - t) / 1e6;
    process.stdout.write(
      JSON.stringify({
        rows: ROWS,
        load: results,
        basket_trials: n,
        basket_trials_per_s: Math.round((n / basketMs) * 1000),
        load_average_1m: { start: Math.round(load0 * 10) / 10, end: Math.round(os.loadavg()[0]! * 10) / 10 },
      }) + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
