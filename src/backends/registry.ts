/**
 * The kernel registry: a plain Map from (op, backend) to a kernel, as in tfjs's kernel_registry.
 * Registration is explicit (one array per backend, see ./js/index.ts), never an import side effect.
 *
 * `auto` walks the backends from fastest to slowest and takes the first one that is available,
 * supports these arguments, and whose measured crossover (`minWork`) the input reaches: small inputs
 * stay in JS where a native call would cost more than it saves.
 */
import { BackendUnavailableError, InvalidArgumentError } from '../errors.js';

export type BackendName = 'js' | 'cpu' | 'cuda' | 'webgpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_NAMES: readonly BackendName[] = ['js', 'cpu', 'cuda', 'webgpu'];
/** Order `auto` tries backends in. */
const AUTO_ORDER: readonly BackendName[] = ['cuda', 'webgpu', 'cpu', 'js'];

export interface Kernel<A = unknown, R = unknown> {
  op: string;
  backend: BackendName;
  run(args: A): Promise<R> | R;
  /** `true`, or the reason these arguments are not supported (dtype, size, option). */
  supports?(args: A): true | string;
  /** Work size (in the op's own units, see the op's `workSize`) below which `auto` skips this kernel. */
  minWork?: number;
}

export interface BackendStatus {
  name: BackendName;
  available: boolean;
  /** Why it is unavailable (exact cause), or a short description when available. */
  reason: string;
}

/** A backend provider reports whether it can run here; set by bindings/ loaders. */
export type BackendProbe = () => BackendStatus;

const kernels = new Map<string, Kernel>();
const probes = new Map<BackendName, BackendProbe>();
let defaultBackend: BackendChoice = 'auto';

const key = (op: string, backend: BackendName) => `${op}\u0000${backend}`;

export function registerKernels(list: readonly Kernel<any, any>[]): void {
  for (const k of list) kernels.set(key(k.op, k.backend), k as Kernel);
}

export function registerBackend(name: BackendName, probe: BackendProbe): void {
  probes.set(name, probe);
}

export function getKernel<A, R>(op: string, backend: BackendName): Kernel<A, R> | undefined {
  return kernels.get(key(op, backend)) as Kernel<A, R> | undefined;
}

/** Status of every backend, with the exact reason when one is unavailable. */
export function backendStatus(name: BackendName): BackendStatus {
  if (name === 'js') return { name, available: true, reason: 'pure TypeScript reference kernels' };
  const probe = probes.get(name);
  if (!probe) {
    const later = name === 'cuda' || name === 'webgpu';
    return {
      name,
      available: false,
      reason: later ? `the ${name} backend is not part of this release yet` : `no loader registered for ${name}`,
    };
  }
  return probe();
}

/** Set the backend used when a call passes none (`'auto'` by default). */
export function setDefaultBackend(choice: BackendChoice): void {
  if (choice !== 'auto' && !BACKEND_NAMES.includes(choice)) {
    throw new InvalidArgumentError(
      'backend',
      `Expected one of auto, ${BACKEND_NAMES.join(', ')} for backend but received '${String(choice)}'`,
    );
  }
  defaultBackend = choice;
}

export function getDefaultBackend(): BackendChoice {
  return defaultBackend;
}

/** Pick the kernel that runs `op` for these arguments. Throws BackendUnavailableError for an explicit choice that cannot run. */
export function selectKernel<A, R>(op: string, args: A, choice: BackendChoice | undefined, work: number): Kernel<A, R> {
  const wanted = choice ?? defaultBackend;
  if (wanted !== 'auto') {
    if (!BACKEND_NAMES.includes(wanted)) {
      throw new InvalidArgumentError(
        'backend',
        `Expected one of auto, ${BACKEND_NAMES.join(', ')} for backend but received '${String(wanted)}'`,
      );
    }
    const status = backendStatus(wanted);
    if (!status.available) throw new BackendUnavailableError(wanted, status.reason);
    const k = getKernel<A, R>(op, wanted);
    if (!k) throw new BackendUnavailableError(wanted, `op '${op}' has no ${wanted} kernel`);
    const ok = k.supports ? k.supports(args) : true;
    if (ok !== true) throw new BackendUnavailableError(wanted, `op '${op}': ${ok}`);
    return k;
  }
  for (const name of AUTO_ORDER) {
    const k = getKernel<A, R>(op, name);
    if (!k) continue;
    if (name !== 'js') {
      if (!backendStatus(name).available) continue;
      if (k.minWork !== undefined && work < k.minWork) continue;
      if (k.supports && k.supports(args) !== true) continue;
    }
    return k;
  }
  throw new BackendUnavailableError('auto', `op '${op}' has no kernel registered`);
}

/** Every result of a dispatched op says which backend computed it. */
export interface Ran {
  backend: BackendName;
}

/** Run `op` on the selected backend; returns the kernel's result and the backend's name. */
export async function dispatch<A, R>(
  op: string,
  args: A,
  choice: BackendChoice | undefined,
  work: number,
): Promise<{ result: R; backend: BackendName }> {
  const k = selectKernel<A, R>(op, args, choice, work);
  // Capture the caller's stack before crossing into a kernel (sharp's habit) so native errors point home.
  const callerStack = new Error().stack;
  try {
    return { result: await k.run(args), backend: k.backend };
  } catch (err) {
    if (err instanceof Error && callerStack && k.backend !== 'js') {
      err.stack = `${err.name}: ${err.message}\n${callerStack.split('\n').slice(2).join('\n')}`;
    }
    throw err;
  }
}
