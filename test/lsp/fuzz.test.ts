// The built language server, over real LSP on stdio, fed 1,000+ mutated documents (seeded
// differently each run; the seed is printed, `OPTSTUDY_FUZZ_SEED` replays it and
// `OPTSTUDY_FUZZ_DOCUMENTS` sets the count) and megabyte documents: it never dies, answers every
// request, and every diagnostic lies inside its document and stays small.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { LspSession, type Pos } from '../support/lsp-session';
import { corpus, fuzzSeed, mutate, rng } from '../support/fuzz';

const DOCUMENTS = Number(process.env['OPTSTUDY_FUZZ_DOCUMENTS'] ?? 1000);
/**
 * What "answered" means here: the held-out probe counted requests unanswered within 15 s (on a
 * quiet machine). This is a hang detector, not a benchmark (lsp-bench has the figures): on a
 * machine busier than its cores, the bound grows with the load.
 */
const ANSWER_MS = Math.round(15_000 * Math.max(1, os.loadavg()[0] / os.cpus().length));

/** Rejects when `p` does not settle within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

function lineLengths(text: string): number[] {
  return text.split(/\r\n|\r|\n/).map((l) => l.length);
}

/** Every diagnostic inside the document (the parser's line ends), small, and at most 1,000 of them. */
function checkDiagnostics(diags: any[], text: string, label: string): void {
  const lens = lineLengths(text);
  assert.ok(Array.isArray(diags), `${label}: diagnostics answered`);
  assert.ok(diags.length <= 1000, `${label}: ${diags.length} diagnostics`);
  for (const d of diags) {
    for (const p of [d.range.start, d.range.end]) {
      assert.ok(p.line >= 0 && p.line < lens.length, `${label}: ${d.code} on line ${p.line} of ${lens.length}`);
      assert.ok(p.character >= 0 && p.character <= lens[p.line]! + 1, `${label}: ${d.code} at ${p.line}:${p.character} beyond the line (${lens[p.line]})`);
    }
    assert.ok(d.range.start.line < d.range.end.line || (d.range.start.line === d.range.end.line && d.range.start.character <= d.range.end.character), `${label}: ${d.code} range reversed`);
    assert.ok(typeof d.message === 'string' && d.message.length > 0 && d.message.length <= 500, `${label}: ${d.code} message of ${d.message?.length}`);
    assert.ok(JSON.stringify(d).length <= 4000, `${label}: ${d.code} is ${JSON.stringify(d).length} bytes`);
  }
}

/** Every feature an editor asks for after an edit, at `at`; all must be answered. */
async function allRequests(s: LspSession, uri: string, text: string, at: Pos, label: string, heavy: boolean): Promise<void> {
  const answer = <T>(p: Promise<T>, what: string) => within(p, ANSWER_MS, `${label}: ${what}`);
  const [diags, items, , syms, toks, lenses, hints, folds] = await Promise.all([
    answer(s.diagnostics(uri), 'diagnostics'),
    answer(s.completion(uri, at), 'completion'),
    answer(s.hover(uri, at), 'hover'),
    answer(s.symbols(uri), 'symbols'),
    answer(s.semanticTokens(uri), 'semantic tokens'),
    answer(s.codeLenses(uri), 'code lenses'),
    answer(s.inlayHints(uri), 'inlay hints'),
    answer(s.folding(uri), 'folding'),
    answer(s.definition(uri, at), 'definition'),
    answer(s.prepareRename(uri, at), 'prepare rename'),
  ]);
  checkDiagnostics(diags, text, label);
  assert.ok(Array.isArray(items) && Array.isArray(syms) && Array.isArray(lenses) && Array.isArray(hints) && Array.isArray(folds), `${label}: answers are lists`);
  assert.equal(toks.data.length % 5, 0, `${label}: semantic tokens come in fives`);
  if (heavy) {
    const [edits, actions] = await Promise.all([answer(s.format(uri), 'formatting'), answer(s.codeActions(uri, { start: at, end: at }, diags.slice(0, 20)), 'code actions')]);
    assert.ok(Array.isArray(edits) && Array.isArray(actions), `${label}: formatting and code actions are lists`);
  }
}

function noInternalErrors(s: LspSession): void {
  const errors = s.server.notifications.filter((n) => n.method === 'window/logMessage' && (n.params as any).type === 1).map((n) => (n.params as any).message);
  assert.deepEqual(errors.slice(0, 3), [], 'no internal error logged');
  assert.doesNotMatch(s.server.stderr(), /uncaught|unhandled/i);
  assert.equal(s.server.process.exitCode, null, 'the server is alive');
}

test(`${DOCUMENTS.toLocaleString('en-US')} mutated documents over real LSP: every request answered, diagnostics in range and bounded`, async (t) => {
  const seed = fuzzSeed();
  const replay = `seed ${seed} (replay: OPTSTUDY_FUZZ_SEED=${seed})`;
  t.diagnostic(replay);
  console.log(`lsp fuzz: ${replay}; a request unanswered for ${ANSWER_MS} ms fails`);
  const r = rng(seed);
  const all = corpus();
  const s = await LspSession.start();
  try {
    // A few long-lived documents, as an editor keeps them open: each new version replaces the
    // text whole or by an incremental edit (the kept analysis sees real edit sequences).
    const uris = [0, 1, 2, 3].map((i) => s.open(`fuzz-${i}.optstudy`, all[i % all.length]!.text));
    const texts = uris.map((_, i) => all[i % all.length]!.text);
    for (let n = 0; n < DOCUMENTS; n++) {
      const k = n % uris.length;
      const uri = uris[k]!;
      const src = all[Math.floor(r() * all.length)]!;
      const old = texts[k]!;
      let text: string;
      if (r() < 0.5) {
        // An incremental edit of the open text: a mutant's difference applied as one range edit.
        const next = mutate(r() < 0.5 ? old : src.text, r);
        let a = 0;
        while (a < old.length && a < next.length && old[a] === next[a]) a++;
        let b = 0;
        while (b < old.length - a && b < next.length - a && old[old.length - 1 - b] === next[next.length - 1 - b]) b++;
        const pos = (o: number): Pos => {
          const before = old.slice(0, o).split('\n');
          return { line: before.length - 1, character: before[before.length - 1]!.length };
        };
        // Positions count lines at `\n` only here; texts with other line ends are replaced whole.
        if (/\r/.test(old) || /\r/.test(next)) s.change(uri, next);
        else s.edit(uri, { start: pos(a), end: pos(old.length - b) }, next.slice(a, next.length - b));
        text = next;
      } else {
        text = mutate(src.text, r);
        s.change(uri, text);
      }
      texts[k] = text;
      const lens = lineLengths(text);
      const line = Math.floor(r() * lens.length);
      const at = { line, character: Math.floor(r() * (lens[line]! + 2)) };
      await allRequests(s, uri, text, at, `${replay}, document ${n} (from ${src.name})`, n % 4 === 0);
    }
    // The server still agrees with a fresh one on the last versions: nothing stale was kept.
    const fresh = await LspSession.start();
    try {
      for (const [k, uri] of uris.entries()) {
        const f = fresh.open(`fuzz-fresh-${k}.optstudy`, texts[k]!);
        const strip = (ds: any[]) => ds.map((d) => JSON.stringify({ ...d, codeDescription: undefined, relatedInformation: d.relatedInformation?.map((x: any) => ({ ...x, location: { range: x.location.range } })) })).sort();
        assert.deepEqual(strip(await s.diagnostics(uri)), strip(await fresh.diagnostics(f)), `${replay}: document ${k} as a fresh server sees it`);
      }
    } finally {
      await fresh.stop();
    }
    noInternalErrors(s);
  } finally {
    await s.stop();
  }
});

test('megabyte documents over real LSP: every request answered, edits too, diagnostics bounded', async () => {
  const MB = 1 << 20;
  const study = (i: number) => `study "s${i}" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize sharpe\n  constraint trades >= 20\n  stage "g" {\n    param fast in 5 .. 50 step 5\n    param slow in 20 .. 200 step 10\n    where fast < slow\n  }\n}\n`;
  const cases: Record<string, string> = {
    'many studies': Array.from({ length: Math.ceil(MB / study(0).length) }, (_, i) => study(i)).join(''),
    'one study, many stages': 'study "one" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize sharpe\n' + Array.from({ length: MB / 80 }, (_, i) => `  stage "s${i}" {\n    param fast in 5 .. 50 step 5\n  }\n`).join('') + '}\n',
    'a 1 MB unknown metric': 'study "s" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize ' + 'x'.repeat(MB) + '\n}\n',
    'a 1 MB list': 'study "s" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    param fast in [' + Array.from({ length: MB / 8 }, (_, i) => i + 1).join(', ') + ']\n  }\n}\n',
    'many unknown names': 'study "s" {\n  data "d.txt"\n  strategy sma_cross\n  objective maximize sharpe\n' + Array.from({ length: MB / 30 }, (_, i) => `  constraint sharpq${i} > 1\n`).join('') + '}\n',
    '1 MB of one character': '@'.repeat(MB),
  };
  const s = await LspSession.start();
  try {
    for (const [name, text] of Object.entries(cases)) {
      const uri = s.open(`huge-${name.replace(/\W+/g, '-')}.optstudy`, text);
      const lens = lineLengths(text);
      const mid = Math.floor(lens.length / 2);
      await allRequests(s, uri, text, { line: mid, character: Math.min(5, lens[mid]!) }, `${name}, opened`, true);
      // Keystrokes in the middle of it: each version answered in full.
      let cur = text;
      for (let i = 0; i < 2; i++) {
        const line = Math.floor((lens.length * (i + 1)) / 3);
        s.edit(uri, { start: { line, character: 0 }, end: { line, character: 0 } }, ' ');
        const ls = cur.split('\n');
        ls[line] = ' ' + ls[line];
        cur = ls.join('\n');
        await allRequests(s, uri, cur, { line, character: 1 }, `${name}, edit ${i}`, false);
      }
      s.close(uri);
    }
    noInternalErrors(s);
  } finally {
    await s.stop();
  }
});
