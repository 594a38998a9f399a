/** Standard optimization test functions (minimization) and their domains, for sampler tests and benchmarks. */
import type { Dim, Params } from '../../server/search/space';

export interface TestFunction {
  name: string;
  dims: Dim[];
  optimum: number;
  f: (p: Params) => number;
}

const xs = (p: Params, n: number): number[] => Array.from({ length: n }, (_, i) => p[`x${i + 1}`] as number);
const box = (n: number, low: number, high: number, int = false): Dim[] =>
  Array.from({ length: n }, (_, i) => ({ name: `x${i + 1}`, low, high, int }));

export const branin: TestFunction = {
  name: 'branin',
  dims: [
    { name: 'x1', low: -5, high: 10 },
    { name: 'x2', low: 0, high: 15 },
  ],
  optimum: 0.397887,
  f: (p) => {
    const [x1, x2] = xs(p, 2) as [number, number];
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
  },
};

const HA = [1.0, 1.2, 3.0, 3.2];
const HA_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HA_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];

export const hartmann6: TestFunction = {
  name: 'hartmann6',
  dims: box(6, 0, 1),
  optimum: -3.32237,
  f: (p) => {
    const x = xs(p, 6);
    let s = 0;
    for (let i = 0; i < 4; i++) {
      let e = 0;
      for (let j = 0; j < 6; j++) e += HA_A[i]![j]! * (x[j]! - HA_P[i]![j]! * 1e-4) ** 2;
      s += HA[i]! * Math.exp(-e);
    }
    return -s;
  },
};

const rosen = (x: number[]): number => {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) s += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
  return s;
};

export const rosenbrock5: TestFunction = { name: 'rosenbrock5', dims: box(5, -5, 10), optimum: 0, f: (p) => rosen(xs(p, 5)) };
export const rosenbrock5Int: TestFunction = { name: 'rosenbrock5_int', dims: box(5, -5, 10, true), optimum: 0, f: (p) => rosen(xs(p, 5)) };

export const ackley5: TestFunction = {
  name: 'ackley5',
  dims: box(5, -32.768, 32.768),
  optimum: 0,
  f: (p) => {
    const x = xs(p, 5);
    const n = x.length;
    const s1 = x.reduce((a, v) => a + v * v, 0) / n;
    const s2 = x.reduce((a, v) => a + Math.cos(2 * Math.PI * v), 0) / n;
    return -20 * Math.exp(-0.2 * Math.sqrt(s1)) - Math.exp(s2) + 20 + Math.E;
  },
};

export const ALL_FUNCTIONS = [branin, hartmann6, rosenbrock5, ackley5, rosenbrock5Int];
