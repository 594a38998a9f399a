import { findBuiltinStrategy, type ParamSchema } from '../../../grammar/builtins';

/** The parameter schema of a built-in, from the one registry the language also uses. */
export function builtinParams(name: string): readonly ParamSchema[] {
  const s = findBuiltinStrategy(name);
  if (!s) throw new Error(`grammar/builtins.ts has no schema for built-in '${name}'`);
  return s.params;
}
