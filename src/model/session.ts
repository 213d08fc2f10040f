/**
 * onnxruntime-node sessions shared by the detector and the segmenter: loading a model from a path or
 * bytes with a clear `ModelError` when it is not ONNX, execution-provider fallback (onnxruntime throws
 * when a provider cannot start instead of falling back, so we try each one asked for, in order, warn
 * in one line, and end on CPU), and the model's input/output metadata in a plain form.
 */
import { readFile, stat } from 'node:fs/promises';
import { readOnnxMetadata } from './onnxMetadata.js';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { InvalidArgumentError, ModelError } from '../errors.js';
import { checkInteger, invalid } from '../validate.js';

/** Execution providers maskbox knows how to ask onnxruntime-node for. */
export type ExecutionProvider = 'cpu' | 'cuda' | 'webgpu';
/** Every {@link ExecutionProvider}. */
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'cuda', 'webgpu'];

/** One model input or output: name, element type, and shape (a string for a symbolic/dynamic dimension). */
export interface TensorInfo {
  name: string;
  /** onnxruntime tensor type, e.g. `'float32'`, `'int64'`; `'unknown'` for non-tensor values. */
  type: string;
  /** Dimensions; a number when fixed, a string (the symbolic name, possibly `''`) when dynamic. */
  shape: (number | string)[];
}

/** Options of {@link createSession}. */
export interface SessionOptions {
  /**
   * Providers to try, in order; CPU is always the last resort. Default `'cpu'`.
   * `'cuda'` needs onnxruntime-node's CUDA libraries (not in its default linux package); `'webgpu'` needs an adapter.
   */
  executionProviders?: ExecutionProvider | readonly ExecutionProvider[];
  /** Receives the one-line fallback warning. Default: `console.warn` with a `maskbox:` prefix. */
  onWarning?: (message: string) => void;
  /** Intra-op threads for the CPU provider. Default: onnxruntime's own (one per core). */
  intraOpNumThreads?: number;
  /**
   * Whether onnxruntime's intra-op threads spin (busy-wait) between operators. Default: onnxruntime's
   * own (spinning). Spinning threads burn the cores that decoding the next images needs, so
   * `maskbox detect` turns it off (`session.intra_op.allow_spinning = 0`).
   */
  spinning?: boolean;
}

/**
 * onnxruntime intra-op threads for a batch that decodes while it infers: half the cores, but at least
 * 2 (and at most `cores`). Inference runs on the calling (JS) thread plus `n - 1` helpers while sharp
 * decodes the next images on libuv's threads. With spinning off, a helper sleeps when it has no work,
 * so on 2 cores two threads fill the gaps the decoder leaves (measured: 0.90 of the cores busy instead
 * of 0.82, ~8 % more images/s, benchmarks/RESULTS.md); on many cores half keeps room for decoding.
 */
export function defaultInferenceThreads(cores = availableParallelism()): number {
  return Math.min(Math.max(1, cores), Math.max(2, Math.floor(cores / 2)));
}

/** A loaded session with its metadata and the provider that actually runs it. */
export interface ModelSession {
  session: ort.InferenceSession;
  /** The provider the session was created with (after any fallback). */
  provider: ExecutionProvider;
  /** Providers that were asked for but could not start, each with onnxruntime's reason. */
  fallbacks: { provider: ExecutionProvider; reason: string }[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** The path, or `'<bytes>'` for a model given as bytes (used in error messages). */
  source: string;
  /** The model's `metadata_props` (key -> value; `{}` when it has none). */
  metadata: Record<string, string>;
}

/** Normalise the `executionProviders` option into a list that ends with `'cpu'`. */
export function providerList(value: SessionOptions['executionProviders']): ExecutionProvider[] {
  const list =
    value === undefined ? ['cpu'] : typeof value === 'string' ? [value] : Array.isArray(value) ? [...value] : null;
  if (list === null || list.length === 0)
    invalid('executionProviders', `a provider or a non-empty list of ${EXECUTION_PROVIDERS.join(', ')}`, value);
  list.forEach((p, i) => {
    if (!(EXECUTION_PROVIDERS as readonly unknown[]).includes(p)) {
      invalid(`executionProviders[${i}]`, `one of ${EXECUTION_PROVIDERS.map((e) => `'${e}'`).join(', ')}`, p);
    }
  });
  const out = [...new Set(list as ExecutionProvider[])];
  if (!out.includes('cpu')) out.push('cpu');
  return out.slice(0, out.indexOf('cpu') + 1);
}

function firstLine(message: string): string {
  // onnxruntime messages carry source paths and multi-line logs; keep the informative part on one line.
  const line = message.split('\n').find((l) => l.trim() !== '') ?? message;
  return line
    .replace(/\u001b\[[0-9;]*m/g, '')
    .replace(/^\/onnxruntime_src\/\S+\s+/, '')
    .trim()
    .slice(0, 300);
}

function toInfo(meta: readonly ort.InferenceSession.ValueMetadata[], names: readonly string[]): TensorInfo[] {
  return names.map((name, i) => {
    const m = meta[i];
    if (m && m.isTensor)
      return { name, type: m.type, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) };
    return { name, type: 'unknown', shape: [] };
  });
}

/**
 * Load an ONNX model into an onnxruntime-node session, trying the asked-for providers in order and
 * falling back to CPU with a one-line warning when one cannot start.
 * @param model a path to an `.onnx` file, or its bytes
 * @param options providers (default `'cpu'`), warning sink, CPU threads
 * @throws InvalidArgumentError for an unknown provider, a missing path or a bad `model` argument
 * @throws ModelError naming the path when the file is empty or not a loadable ONNX model
 * @example const { session, provider, inputs } = await createSession('model.onnx', { executionProviders: ['cuda'] });
 */
export async function createSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<ModelSession> {
  const providers = providerList(options.executionProviders);
  const warn = options.onWarning ?? ((m: string) => console.warn(`maskbox: ${m}`));
  let source: string;
  let bytes: Uint8Array;
  if (typeof model === 'string') {
    source = model;
    try {
      const st = await stat(model);
      if (!st.isFile()) throw new Error('not a regular file');
    } catch (err) {
      throw new InvalidArgumentError(
        'model',
        `${model}: cannot read model file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    bytes = await readFile(model);
  } else if (model instanceof Uint8Array) {
    source = '<bytes>';
    bytes = model;
  } else {
    invalid('model', 'a path to an .onnx file or its bytes (Uint8Array)', model);
  }
  if (bytes.length === 0) throw new ModelError(`${source}: empty file (0 bytes), not an ONNX model`);

  // A provider that cannot start makes onnxruntime print a multi-line native error log before it throws;
  // maskbox reports that failure itself in one line, so while onnxruntime's log level is still its
  // default ('warning') it is raised to 'fatal'. It applies process-wide and only before the first
  // session of the process (onnxruntime reads it once); set `ort.env.logLevel` yourself to override.
  if (providers.length > 1 && ort.env.logLevel === 'warning') ort.env.logLevel = 'fatal';
  const fallbacks: ModelSession['fallbacks'] = [];
  for (const provider of providers) {
    const opts: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    };
    if (options.intraOpNumThreads !== undefined)
      opts.intraOpNumThreads = checkInteger('intraOpNumThreads', options.intraOpNumThreads, 1, 1024);
    if (options.spinning !== undefined) {
      if (typeof options.spinning !== 'boolean') invalid('spinning', 'a boolean', options.spinning);
      // The Node binding flattens `extra` into session config entries: 'session.intra_op.allow_spinning'.
      opts.extra = { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } };
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, opts);
    } catch (err) {
      const reason = firstLine((err as Error).message ?? String(err));
      if (provider !== 'cpu') {
        fallbacks.push({ provider, reason });
        const next = providers[providers.indexOf(provider) + 1]!;
        warn(`execution provider '${provider}' unavailable (${reason}); falling back to '${next}'`);
        continue;
      }
      if (/protobuf parsing failed|not a valid|Invalid model|No graph/i.test(reason)) {
        throw new ModelError(`${source}: not an ONNX model (${reason})`, { cause: err });
      }
      throw new ModelError(`${source}: onnxruntime cannot load this model (${reason})`, { cause: err });
    }
    return {
      session,
      provider,
      fallbacks,
      inputs: toInfo(session.inputMetadata, session.inputNames),
      outputs: toInfo(session.outputMetadata, session.outputNames),
      source,
      metadata: readOnnxMetadata(bytes),
    };
  }
  /* c8 ignore next */
  throw new ModelError(`${source}: no execution provider could load the model`);
}

/** `[1, 3, 'height', 640]` → `'[1,3,height,640]'`, for messages. */
export function formatShape(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (d === '' ? '?' : d)).join(',')}]`;
}
