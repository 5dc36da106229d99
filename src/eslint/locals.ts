/**
 * Functions of the same file, found from a name: the function a variable holds
 * (`function f() {}`, `const f = () => {}`) and the variable a name refers to from a scope.
 */
import type { Scope } from 'eslint';
import type { FunctionNode } from './responses.js';

/** The variable a name refers to from a scope (the innermost one that declares it). */
export function lookup(scope: Scope.Scope | null, name: string): Scope.Variable | undefined {
  for (let current = scope; current !== null; current = current.upper) {
    const found = current.set.get(name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The function a variable is declared as or initialized with, if it is one. */
export function functionOf(variable: Scope.Variable | undefined): FunctionNode | undefined {
  const def = variable?.defs[0];
  if (def === undefined || (variable?.defs.length ?? 0) > 1) return undefined;
  if (def.type === 'FunctionName') return def.node;
  if (def.type !== 'Variable' || def.node.init === null || def.node.init === undefined) return undefined;
  const init = def.node.init;
  return init.type === 'ArrowFunctionExpression' || init.type === 'FunctionExpression' ? init : undefined;
}
