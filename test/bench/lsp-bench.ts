/**
 * Language-server latency through the real built server over stdio (`npm run bench -- lsp`):
 * - diagnostics after an edit of one study 5,000 lines long (hundreds of stages): one keystroke
 *   (a digit of a setting or of a stage's domain, an operator typed or deleted, Enter above
 *   everything), then a pull (`textDocument/diagnostic`); the time from sending the edit to the
 *   answer, and the server's main-thread CPU for it. Goal ≤ 50 ms p95.
 * - completion at varied positions of that study. Goal ≤ 10 ms p95. Hover likewise.
 * - the same edits with the kept analysis off, and edits in a file of many studies.
 * Prints one JSON object as its last line; note the load average it reports.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { LspSession } from '../support/lsp-session';

/**
 * CPU time (ms) of the server's main thread so far, from /proc/PID/schedstat (nanoseconds):
 * on a loaded machine wall latency mostly measures waiting for a core, this is the work the
 * server did. `undefined` where /proc is not available.
 */
function serverCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

/** A realistic document of about `lines` lines: studies with staged searches, comments and expressions. */
function bigDocument(lines: number): string {
  const out: string[] = ['// generated for the language-server benchmark', ''];
  const methods = ['grid', 'bayes { trials 60, init 10, acquisition ei }', 'tpe { trials 80 }', 'random { trials 50 }'];
  let k = 0;
  while (out.length < lines - 30) {
    out.push(
      `study "study ${k}" {`,
      '  data "../../../samples/data/orcl-1995-2014.txt" from 2005-01-01 to 2014-12-31',
      '  cash 100000',
      '  commission 0.1%            // per side',
      '  sizing percent 95',
      '  strategy ema_atr',
      '',
      '  objective maximize profit_factor * max(sharpe, 0) * (1 - max_drawdown_pct / 100)',
      '  constraint trades >= 20',
      '  constraint max_drawdown_pct <= 30',
      '',
      `  stage "risk ${k}" {`,
      `    search ${methods[k % methods.length]}`,
      '    param atr_sl_multiplier in [1.5, 2.0, 2.5, 3.0]',
      '    param atr_tp_multiplier in 6.0 .. 12.0 step 2.0',
      '  }',
      `  stage "entry ${k}" {`,
      '    search grid',
      '    param ema_fast in 5 .. 30 step 1',
      '    param ema_slow in 20 .. 120 step 5',
      '    where ema_fast < ema_slow',
      '  }',
      '  workers 2',
      '  seed 42',
      '  timeout 30s',
      '}',
      '',
    );
    k++;
  }
  while (out.length < lines) out.push('// padding');
  return out.join('\n') + '\n';
}

/** One study of about `lines` lines: many stages (the incremental analysis cannot split it). */
function singleStudy(lines: number): string {
  const out = ['study "one big study" {', '  data "../../../samples/data/orcl-1995-2014.txt"', '  strategy ema_atr', '  objective maximize sharpe', '  seed 42'];
  let k = 0;
  while (out.length < lines - 1) {
    out.push(`  stage "s${k}" {`, '    search grid', '    param ema_fast in 5 .. 30 step 1', '    param ema_slow in 20 .. 120 step 5', '    where ema_fast < ema_slow', '  }');
    k++;
  }
  out.push('}');
  return out.join('\n') + '\n';
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2));
}

type Edit = { range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string };

/**
 * Sends each edit (one keystroke) and pulls the diagnostics; the time from the edit to the
 * answer, and the server's main-thread CPU for it. The first `warm` are not counted.
 */
async function measureEdits(s: LspSession, uri: string, edits: Edit[], warm = 5) {
  const pid = s.server.process.pid;
  const wall: number[] = [];
  const cpu: number[] = [];
  let count = 0;
  for (const [i, e] of edits.entries()) {
    const c0 = serverCpuMs(pid);
    const t0 = performance.now();
    s.edit(uri, e.range, e.text);
    const items = await s.diagnostics(uri);
    const dt = performance.now() - t0;
    const c1 = serverCpuMs(pid);
    count = items.length;
    if (i < warm) continue;
    wall.push(dt);
    if (c0 !== undefined && c1 !== undefined) cpu.push(c1 - c0);
  }
  return { p50Ms: pct(wall, 50), p95Ms: pct(wall, 95), samples: wall.length, diagnosticsInDocument: count, serverCpuMs: cpu.length ? { p50: pct(cpu, 50), p95: pct(cpu, 95) } : null };
}

/** Completion at `spots` (cycled); time to the answer and the server's CPU. */
async function measureCompletion(s: LspSession, uri: string, spots: { line: number; character: number }[], n: number, warm = 20) {
  const pid = s.server.process.pid;
  const wall: number[] = [];
  const cpu: number[] = [];
  let maxItems = 0;
  for (let i = 0; i < n; i++) {
    const at = spots[(i * 37) % spots.length]!;
    const c0 = serverCpuMs(pid);
    const t0 = performance.now();
    const items = await s.completion(uri, at);
    const dt = performance.now() - t0;
    const c1 = serverCpuMs(pid);
    maxItems = Math.max(maxItems, items.length);
    if (i < warm) continue;
    wall.push(dt);
    if (c0 !== undefined && c1 !== undefined) cpu.push(c1 - c0);
  }
  return { p50Ms: pct(wall, 50), p95Ms: pct(wall, 95), samples: wall.length, maxItems, serverCpuMs: cpu.length ? { p50: pct(cpu, 50), p95: pct(cpu, 95) } : null };
}

/** Keystrokes through a long study: a digit of the seed, of a stage's domain, an operator typed and deleted, Enter above everything and back. */
function singleStudyEdits(lines: string[], n: number): Edit[] {
  const at = (line: number, character: number) => ({ line, character });
  const seed = lines.findIndex((l) => l.startsWith('  seed '));
  const domains = lines.map((l, i) => (l.startsWith('    param ema_fast in 5') ? i : -1)).filter((i) => i >= 0);
  const wheres = lines.map((l, i) => (l.startsWith('    where ema_fast <') ? i : -1)).filter((i) => i >= 0);
  const edits: Edit[] = [];
  for (let i = 0; edits.length < n; i++) {
    const d = domains[(i * 131) % domains.length]!;
    const w = wheres[(i * 71) % wheres.length]!;
    switch (i % 4) {
      case 0:
        edits.push({ range: { start: at(seed, 7), end: at(seed, 8) }, text: String(i % 10) });
        break;
      case 1: // `5 .. 30` → `6 .. 30` and back: that stage's grid changes
        edits.push({ range: { start: at(d, 22), end: at(d, 23) }, text: '6' }, { range: { start: at(d, 22), end: at(d, 23) }, text: '5' });
        break;
      case 2: // `<` → `<=` and back
        edits.push({ range: { start: at(w, 20), end: at(w, 20) }, text: '=' }, { range: { start: at(w, 20), end: at(w, 21) }, text: '' });
        break;
      default: // Enter at the top: every line below moves
        edits.push({ range: { start: at(0, 0), end: at(0, 0) }, text: '\n' }, { range: { start: at(0, 0), end: at(1, 0) }, text: '' });
    }
  }
  return edits.slice(0, n);
}

async function main(): Promise<void> {
  const s = await LspSession.start();
  try {
    // The goal case: one study of 5,000 lines (hundreds of stages).
    const single = singleStudy(5000);
    const singleLines = single.split('\n');
    const su = s.open('bench-single.optstudy', single);
    await s.diagnostics(su); // first analysis, JIT
    const oneStudy = await measureEdits(s, su, singleStudyEdits(singleLines, 125));
    const spots: { line: number; character: number }[] = [];
    singleLines.forEach((l, i) => {
      if (l.startsWith('    search ')) spots.push({ line: i, character: 11 });
      else if (l.startsWith('    param ema_fast')) spots.push({ line: i, character: 10 });
      else if (l.startsWith('    where ema_fast <')) spots.push({ line: i, character: 21 });
      else if (l.startsWith('  objective maximize ')) spots.push({ line: i, character: 21 });
    });
    const oneStudyCompletion = await measureCompletion(s, su, spots, 260);
    const hover: number[] = [];
    for (let i = 0; i < 120; i++) {
      const at = spots[(i * 13) % spots.length]!;
      const t0 = performance.now();
      await s.hover(su, { line: at.line, character: at.character + 2 });
      if (i >= 10) hover.push(performance.now() - t0);
    }
    s.close(su);

    // Many studies in one file of 5,000 lines: an edit in one study.
    const text = bigDocument(5000);
    const lines = text.split('\n');
    const uri = s.open('bench-5000.optstudy', text);
    await s.diagnostics(uri);
    const cashLines = lines.map((l, i) => (l.startsWith('  cash ') ? i : -1)).filter((i) => i >= 0);
    const cashEdits: Edit[] = Array.from({ length: 60 }, (_, i) => {
      const line = cashLines[(i * 7) % cashLines.length]!;
      return { range: { start: { line, character: 7 }, end: { line, character: 8 } }, text: i % 2 ? '1' : '2' };
    });
    const manyStudies = await measureEdits(s, uri, cashEdits);

    // The same edits with the kept analysis switched off (every version analyzed afresh).
    const plain = await LspSession.start({ env: { OPTSTUDY_INCREMENTAL: '0' } });
    let withoutKept;
    try {
      const pu = plain.open('bench-single-fresh.optstudy', single);
      await plain.diagnostics(pu);
      withoutKept = await measureEdits(plain, pu, singleStudyEdits(singleLines, 12), 2);
    } finally {
      await plain.stop();
    }
    const result = {
      singleStudy: {
        lines: singleLines.length,
        chars: single.length,
        diagnosticsAfterEdit: { ...oneStudy, goalP95Ms: 50, goalMet: oneStudy.p95Ms <= 50 },
        completion: { ...oneStudyCompletion, goalP95Ms: 10, goalMet: oneStudyCompletion.p95Ms <= 10 },
        hover: { p50Ms: pct(hover, 50), p95Ms: pct(hover, 95), samples: hover.length },
        diagnosticsAfterEditWithoutKeptAnalysis: withoutKept,
      },
      manyStudies: { lines: lines.length, chars: text.length, diagnosticsAfterEdit: manyStudies },
      load: os.loadavg()[0],
      cpus: os.cpus().length,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await s.stop();
  }
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String(e?.stack ?? e) }) + '\n');
  process.exitCode = 1;
});
