/**
 * For the tests of the engine's emulations of glibc's libm (pow, log, expm1) and the metrics
 * built on them: Python's values (one python3 child computes a tuple of floats per row of input
 * floats, both ways through hex bit patterns: exact, NaN and −0 included), random doubles, and
 * inputs where glibc's log and expm1 part from what the engine used before.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { python } from '../support/oracle-process';
import { tempFolder } from '../support/temp';

const F = new Float64Array(1);
const B = new BigUint64Array(F.buffer);
const hex = (x: number): string => ((F[0] = x), B[0]!.toString(16));
const fromHex = (h: string): number => ((B[0] = BigInt('0x' + h)), F[0]!);

/**
 * For each row, Python's `f(a)` (a: the row as a list of floats; f returns a tuple of floats),
 * defined by `def` (Python source defining `f`; `math` is imported, and `cr_log(x)`, the
 * correctly rounded ln through 50-digit decimals, is defined).
 */
export async function pythonRows(def: string, rows: number[][]): Promise<number[][]> {
  const dir = tempFolder('optstudy-libm-');
  const file = path.join(dir, 'rows.txt');
  writeFileSync(file, rows.map((r) => r.map(hex).join(' ')).join('\n'));
  const script = [
    'import math, struct, sys',
    'from decimal import Decimal, getcontext',
    'getcontext().prec = 50',
    'd = lambda s: struct.unpack("<d", struct.pack("<Q", int(s, 16)))[0]',
    'h = lambda v: "%x" % struct.unpack("<Q", struct.pack("<d", v))[0]',
    'cr_log = lambda x: float(Decimal(x).ln())',
    def,
    'print("\\n".join(" ".join(h(v) for v in f([d(t) for t in l.split()])) for l in open(sys.argv[1])))',
  ].join('\n');
  return (await python(['-c', script, file]))
    .trim()
    .split('\n')
    .map((l) => l.split(' ').map(fromHex));
}

/** A positive double with a random mantissa and a binary exponent in [lo, hi). */
export function randomDouble(r: () => number, lo: number, hi: number): number {
  const m = 1 + Math.floor(r() * 2 ** 26) / 2 ** 26 + Math.floor(r() * 2 ** 26) / 2 ** 52;
  return m * 2 ** (lo + Math.floor(r() * (hi - lo)));
}

/**
 * Inputs where glibc's log is one ulp from the correctly rounded value (x86-64 FMA build; found in
 * C against libquadmath's logq).
 */
export const HARD_LOG = [
  // x ∈ [2^-7, 2^7): mostly the table path (x = 2^k·z)
  1.1649076990207785, 0.843151337971572, 0.37274319721042554, 0.09054366376013598, 1.1593531551322034, 28.902964076777735, 5.28269125268276, 2.4536093962395804,
  1.1385646132334046, 1.5317842763180816, 0.8943600118228489, 1.3048474698488481, 0.9335160438552395, 6.508021181498005, 0.051496876153290884, 0.8991469778631445,
  0.37087547165572915, 0.9461617363182568, 1.0785011187533113, 10.052987848998958, 0.12588635981098587, 2.549099143074108, 0.23357431780282115, 1.2112552329304633,
  // x ∈ [1 − 2^-4, 1 + 0x1.09p-4): the near-1 path
  0.9461665390753957, 1.0471392122322443, 1.0315627975283896, 1.0328947240707103, 0.9945240114617093, 0.9720509158538881, 0.9464072999488168, 0.968696646113226,
  0.988892576009414, 1.0608834717289377, 0.9432846904228339, 1.0152357248666515, 0.9737656006304248, 0.9489408305430086, 0.9954825154893713, 0.9466957798266257,
  0.966307808496226, 0.9886045706002814, 0.9907478415890187, 0.9702313512871468, 1.0543537363683733, 0.9679507234326354, 0.9716232782835789, 0.9593468157244507,
];

/** Inputs where `Math.expm1` and glibc's expm1 differ (found in C and Node). */
export const HARD_EXPM1 = [
  // |x| ≤ ln2/2 (k = 0): the annualised log returns of most backtests
  0.2334466329085193, -0.28599579527331165, -0.23496268062815062, -0.317761662921355, 0.282175885055014, 0.15352896347671674, -0.09613673282061086, 0.31777397266898455,
  0.17271612747905885, -0.2453895974128253, -0.2795701612484992, 0.16854090169398617,
  // k = ±1
  -0.4129346945117267, 0.41624095121414617, -0.44167643526961164, 0.44659114999263083, -0.46703272903693116, -0.4123898268629508, 0.36117308374314383, 0.3853144764631241,
  // k ≥ 2, and k > 56
  25.157825831342066, 13.624398531197613, 24.682609297190268, 19.09878002354239, 3.238870897881185, 6.61387815565881, 4.611670544059834, 12.864388507530833,
  122.44505972749874, 540.3929516315466, 229.12119294925859, 658.9459953844735,
];
