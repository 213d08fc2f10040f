/**
 * The backend and kernel registry: a plain Map from (op, backend) to a kernel, as in tfjs's
 * kernel_registry, plus each backend's lifecycle (`init()`, a context its kernels run with, `dispose()`).
 *
 * Ops (src/ops/) depend on this file only. Backends are wired by the entry points, explicitly:
 * src/index.ts (Node: js, cpu, webgpu; cuda when present) and src/browser.ts (js, webgpu); see
 * docs/backends.md. Nothing registers itself as an import side effect.
 *
 * `auto` walks the backends from fastest to slowest and takes the first one that is available, is not
 * a software implementation (a CPU-emulated GPU adapter such as lavapipe or SwiftShader, or an
 * emulated device: those run only when asked for by name), supports these arguments, and whose
 * measured crossover (`minWork`) the input reaches: small inputs stay in JS where a native call
 * would cost more than it saves.
 */
import { BackendUnavailableError, InvalidArgumentError } from '../errors.js';
import type { OpArgs, OpName, OpResult } from '../ops/table.js';

export type BackendName = 'js' | 'cpu' | 'cuda' | 'webgpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_NAMES: readonly BackendName[] = ['js', 'cpu', 'cuda', 'webgpu'];
/** Order `auto` tries backends in. */
const AUTO_ORDER: readonly BackendName[] = ['cuda', 'webgpu', 'cpu', 'js'];

/** One op on one backend, typed against the op table (src/ops/table.ts). `C` is the backend's context. */
export interface Kernel<Op extends OpName = OpName, C = any> {
  op: Op;
  backend: BackendName;
  run(args: OpArgs<Op>, ctx: C): Promise<OpResult<Op>> | OpResult<Op>;
  /** `true`, or the reason these arguments are not supported (dtype, size, option). */
  supports?(args: OpArgs<Op>, ctx: C): true | string;
  /** Work size (in the op's own units, see the op's `workSize`) below which `auto` skips this kernel. */
  minWork?: number;
}

/** A backend's kernel list: each entry is a `Kernel` of one op of the table (checked per entry). */
export type KernelList<C = any> = { [Op in OpName]: Kernel<Op, C> }[OpName][];

export interface BackendStatus {
  name: BackendName;
  available: boolean;
  /** Why it is unavailable (exact cause), or a short description when available. */
  reason: string;
  /** The adapter or device that runs it (GPU backends), when known. */
  device?: string;
  /**
   * A software implementation of a GPU (lavapipe, SwiftShader) or an emulated device: correct, but
   * slower than the native CPU kernels, so `auto` never picks it; ask for it by name.
   */
  software?: boolean;
  /** False while an asynchronous backend has not been initialised yet (see `initBackends()`). */
  initialised?: boolean;
}

/**
 * A backend's lifecycle. `status()` answers synchronously with what is known now; `init()` acquires
 * what the kernels need (an addon, a device and its pools) and resolves with the context passed to
 * every `run(args, ctx)`, or `null` with the reason in `status()`. `init()` is called once (the
 * registry memoises it); `dispose()` releases the context, after which `init()` may run again.
 */
export interface Backend<C = unknown> {
  readonly name: BackendName;
  status(): BackendStatus;
  init(): Promise<C | null>;
  dispose(): Promise<void> | void;
  /**
   * Whether `auto` may initialise it on its own. False for backends whose init is costly (creating a
   * GPU device): `auto` then uses them only once something initialised them (`initBackends()` or a
   * call that named them).
   */
  readonly autoInit: boolean;
}

interface Slot {
  backend: Backend<unknown>;
  ctx: unknown;
  init: Promise<unknown> | null;
  done: boolean;
}

const kernels = new Map<string, Kernel>();
const slots = new Map<BackendName, Slot>();
let defaultBackend: BackendChoice = 'auto';

const key = (op: string, backend: BackendName) => `${op}\u0000${backend}`;

/** Register kernels (one explicit list per backend; a later entry for the same op and backend replaces it). */
export function registerKernels(list: readonly Kernel<any, any>[]): void {
  for (const k of list) kernels.set(key(k.op, k.backend), k as Kernel);
}

/** Register a backend and its kernels (replacing an earlier registration of the same name). */
export function registerBackend<C>(backend: Backend<C>, list: KernelList<C> = []): void {
  slots.set(backend.name, { backend: backend as Backend<unknown>, ctx: null, init: null, done: false });
  registerKernels(list);
}

/** Whether any backend is registered (the entry points wire them). */
export function hasBackends(): boolean {
  return slots.size > 0;
}

/** A registered kernel with its backend's context bound: `run(args)` (initialising the backend first when needed). */
export interface BoundKernel<A, R> {
  op: string;
  backend: BackendName;
  minWork?: number;
  supports?(args: A): true | string;
  run(args: A): Promise<R> | R;
}

/**
 * The kernel registered for `op` on `backend`, with the backend's context bound (tests and benchmarks
 * call kernels directly this way). `run` is synchronous for a synchronous kernel of an initialised
 * backend (and always for js), else it returns a Promise.
 */
export function getKernel<Op extends OpName>(
  op: Op,
  backend: BackendName,
): BoundKernel<OpArgs<Op>, OpResult<Op>> | undefined;
export function getKernel<A, R>(op: string, backend: BackendName): BoundKernel<A, R> | undefined;
export function getKernel(op: string, backend: BackendName): BoundKernel<unknown, unknown> | undefined {
  const k = kernels.get(key(op, backend));
  if (!k) return undefined;
  const slot = () => slots.get(backend);
  const run = (args: unknown) => {
    const s = slot();
    if (!s || s.done || backend === 'js') return k.run(args as never, s?.ctx);
    return initBackend(backend).then(() => k.run(args as never, slot()?.ctx));
  };
  const supports = k.supports ? (args: unknown) => k.supports!(args as never, slot()?.ctx) : undefined;
  return { op: k.op, backend: k.backend, minWork: k.minWork, supports, run };
}

/** Status of a backend, with the exact reason when it is unavailable. Synchronous: what is known now. */
export function backendStatus(name: BackendName): BackendStatus {
  const slot = slots.get(name);
  if (!slot && name === 'js') return { name, available: true, reason: 'pure TypeScript reference kernels' };
  if (!slot) {
    const reason =
      slots.size === 0
        ? 'no backends are wired: import maskbox (or maskbox/browser), which registers them'
        : name === 'cuda'
          ? 'the cuda backend is not part of this build'
          : `no ${name} backend is registered in this entry point`;
    return { name, available: false, reason };
  }
  return slot.backend.status();
}

/** Initialise one backend (once; later calls return the same result) and return its status. */
export async function initBackend(name: BackendName): Promise<BackendStatus> {
  const slot = slots.get(name);
  if (!slot) return backendStatus(name);
  if (!slot.init) {
    slot.init = slot.backend.init().then(
      (ctx) => {
        slot.ctx = ctx;
        slot.done = true;
      },
      (err: unknown) => {
        // init() reports failures through status(); an exception here is a bug in the backend, kept visible.
        slot.done = true;
        slot.ctx = null;
        throw err;
      },
    );
  }
  await slot.init;
  return slot.backend.status();
}

/**
 * Initialise backends (all registered ones by default) and return every backend's status, in the
 * order js, cpu, cuda, webgpu. GPU backends acquire their device here; `backends()` reports the
 * adapter afterwards. @example const list = await initBackends(['webgpu']);
 */
export async function initBackends(names: readonly BackendName[] = BACKEND_NAMES): Promise<BackendStatus[]> {
  await Promise.all(names.map((n) => initBackend(n)));
  return BACKEND_NAMES.map((n) => backendStatus(n));
}

/** Release every initialised backend's context (GPU device, pools); a later call initialises again. */
export async function disposeBackends(): Promise<void> {
  for (const slot of slots.values()) {
    if (!slot.init) continue;
    await slot.init.catch(() => {});
    slot.init = null;
    slot.done = false;
    slot.ctx = null;
    await slot.backend.dispose();
  }
}

/** Set the backend used when a call passes none (`'auto'` by default). */
export function setDefaultBackend(choice: BackendChoice): void {
  checkChoice(choice);
  defaultBackend = choice;
}

export function getDefaultBackend(): BackendChoice {
  return defaultBackend;
}

function checkChoice(choice: unknown): asserts choice is BackendChoice {
  if (choice !== 'auto' && !BACKEND_NAMES.includes(choice as BackendName)) {
    throw new InvalidArgumentError(
      'backend',
      `Expected one of auto, ${BACKEND_NAMES.join(', ')} for backend but received '${String(choice)}'`,
    );
  }
}

/**
 * Pick the kernel that runs `op` for these arguments among the backends as they are now (see
 * `dispatch`, which initialises them first). Throws BackendUnavailableError for an explicit choice
 * that cannot run.
 */
export function selectKernel<Op extends OpName>(
  op: Op,
  args: OpArgs<Op>,
  choice: BackendChoice | undefined,
  work: number,
): Kernel<Op> {
  const wanted = choice ?? defaultBackend;
  checkChoice(wanted);
  if (wanted !== 'auto') {
    const status = backendStatus(wanted);
    if (!status.available) throw new BackendUnavailableError(wanted, status.reason);
    const k = kernels.get(key(op, wanted)) as Kernel<Op> | undefined;
    if (!k) throw new BackendUnavailableError(wanted, `op '${op}' has no ${wanted} kernel`);
    const ok = k.supports ? k.supports(args, slots.get(wanted)?.ctx) : true;
    if (ok !== true) throw new BackendUnavailableError(wanted, `op '${op}': ${ok}`);
    return k;
  }
  for (const name of AUTO_ORDER) {
    const k = kernels.get(key(op, name)) as Kernel<Op> | undefined;
    if (!k) continue;
    const status = backendStatus(name);
    if (!status.available) continue;
    if (name !== 'js') {
      if (!slots.get(name)?.done) continue; // not initialised yet (dispatch initialises those that allow it)
      if (status.software) continue;
      if (k.minWork !== undefined && work < k.minWork) continue;
      if (k.supports && k.supports(args, slots.get(name)?.ctx) !== true) continue;
    }
    return k;
  }
  const none =
    kernels.size === 0 ? ': no backends are wired (import maskbox or maskbox/browser, which register them)' : '';
  throw new BackendUnavailableError('auto', `op '${op}' has no kernel registered${none}`);
}

/** Called after each dispatched op with the op and the backend that ran it (see `onDispatch`). */
export type DispatchObserver = (op: OpName, backend: BackendName) => void;
const observers = new Set<DispatchObserver>();

/**
 * Observe every dispatched op (the CLI names the backends that actually ran under `auto`, also for
 * ops called deep inside a pipeline). Returns the function that stops observing.
 */
export function onDispatch(observer: DispatchObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** V8's (Node, Chromium); absent in other engines, where a native error keeps its own stack. */
const captureStackTrace = (Error as { captureStackTrace?: (target: object, above?: unknown) => void })
  .captureStackTrace;

/** Every result of a dispatched op says which backend computed it. */
export interface Ran {
  backend: BackendName;
}

/**
 * Run `op` on the selected backend (initialising it first: an explicit choice always, `auto` the
 * backends that allow it); returns the kernel's result and the backend's name.
 */
export async function dispatch<Op extends OpName>(
  op: Op,
  args: OpArgs<Op>,
  choice: BackendChoice | undefined,
  work: number,
): Promise<{ result: OpResult<Op>; backend: BackendName }> {
  const wanted = choice ?? defaultBackend;
  checkChoice(wanted);
  if (wanted !== 'auto') await initBackend(wanted);
  else {
    for (const slot of slots.values()) if (!slot.done && slot.backend.autoInit) await initBackend(slot.backend.name);
  }
  const k = selectKernel(op, args, wanted, work);
  try {
    const result = await k.run(args, slots.get(k.backend)?.ctx);
    for (const o of observers) o(op, k.backend);
    return { result, backend: k.backend };
  } catch (err) {
    // A native or GPU rejection carries no JS stack: re-capture it here, after the await, where V8's
    // async stack traces still name the caller (free on the success path, unlike capturing up front).
    if (err instanceof Error && k.backend !== 'js') captureStackTrace?.(err, dispatch);
    throw err;
  }
}
