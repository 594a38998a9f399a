/** Python float operations the oracle's numbers depend on, ported exactly. */

/**
 * Python's `x // y` on floats (CPython `float_floor_div`): computed from `fmod`, so it is the
 * floor of the exact quotient, not `Math.floor(x / y)` (which rounds the quotient first).
 */
export function floorDiv(x: number, y: number): number {
  let mod = x % y; // fmod, exact
  let div = (x - mod) / y;
  if (mod) {
    if (y < 0 !== mod < 0) {
      mod += y;
      div -= 1.0;
    }
  }
  if (div) {
    let fd = Math.floor(div);
    if (div - fd > 0.5) fd += 1.0;
    return fd;
  }
  return x / y < 0 || Object.is(x / y, -0) ? -0 : 0;
}
