/**
 * Wires every backend into the registry, once. Ops call `ensureBackends()` before dispatching.
 */
import { registerKernels } from './registry.js';
import { jsKernels } from './js/index.js';

let wired = false;

export function ensureBackends(): void {
  if (wired) return;
  wired = true;
  registerKernels(jsKernels);
}
