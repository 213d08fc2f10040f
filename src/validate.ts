/**
 * Tiny argument predicates and one error builder that names the argument, the expectation and what
 * was received (sharp's `lib/is` habit). Ops validate once here; kernels trust their inputs.
 */
import { InvalidArgumentError } from './errors.js';

/** Short, safe description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return `${value} of type number`;
  if (typeof value === 'string') return `'${value.length > 40 ? value.slice(0, 40) + '…' : value}' of type string`;
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name} of length ${(value as unknown as { length: number }).length}`;
  if (Array.isArray(value)) return `Array of length ${value.length}`;
  return `value of type ${typeof value}`;
}

/** Throw an InvalidArgumentError: "Expected <expected> for <name> but received <value>". */
export function invalid(name: string, expected: string, value: unknown): never {
  throw new InvalidArgumentError(name, `Expected ${expected} for ${name} but received ${describe(value)}`);
}

/**
 * A decimal number as text (CSV cells, CLI flags): optional sign, digits with an optional fraction, an
 * optional exponent. `Number()` also takes `0x10`, `0b1`, `Infinity` and blanks; these readers do not.
 */
export const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function checkFinite(name: string, v: unknown): number {
  if (!isFiniteNumber(v)) invalid(name, 'a finite number', v);
  return v;
}

export function checkPositive(name: string, v: unknown): number {
  if (!isFiniteNumber(v) || v <= 0) invalid(name, 'a finite number > 0', v);
  return v;
}

export function checkRange(name: string, v: unknown, lo: number, hi: number): number {
  if (!isFiniteNumber(v) || v < lo || v > hi) invalid(name, `a number between ${lo} and ${hi}`, v);
  return v;
}

export function checkInteger(name: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    invalid(name, `an integer between ${min} and ${max}`, v);
  }
  return v;
}

/** True for a typed array or DataView whose memory is a SharedArrayBuffer. */
export function isSharedView(v: unknown): boolean {
  return ArrayBuffer.isView(v) && typeof SharedArrayBuffer !== 'undefined' && v.buffer instanceof SharedArrayBuffer;
}

/**
 * Refuse typed arrays on a SharedArrayBuffer, on every backend alike: native kernels cannot borrow them
 * and another thread could change them while a kernel reads. Copy first: `new Float32Array(shared)`.
 */
export function checkNotShared(name: string, v: unknown): void {
  if (isSharedView(v)) {
    throw new InvalidArgumentError(
      name,
      `Expected ${name} on an ordinary ArrayBuffer but received ${describe(v)} on a SharedArrayBuffer; copy it first (e.g. new ${(v as object).constructor.name}(${name}))`,
    );
  }
}

export function checkFloat32Array(name: string, v: unknown, length?: number): Float32Array {
  if (!(v instanceof Float32Array)) invalid(name, 'a Float32Array', v);
  checkNotShared(name, v);
  if (length !== undefined && v.length !== length) invalid(name, `a Float32Array of length ${length}`, v);
  return v;
}

export function checkUint8Array(name: string, v: unknown, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) invalid(name, 'a Uint8Array', v);
  checkNotShared(name, v);
  if (length !== undefined && v.length !== length) invalid(name, `a Uint8Array of length ${length}`, v);
  return v;
}

/** Throws naming the first NaN/Infinity element, e.g. "boxes[17]". */
export function checkAllFinite(name: string, a: ArrayLike<number>): void {
  checkNotShared(name, a);
  // Branch-free first pass (x * 0 is NaN exactly for NaN and ±Infinity); locate the culprit only on failure.
  let acc = 0;
  if (a instanceof Float32Array) acc = sumTimesZeroF32(a);
  else for (let i = 0; i < a.length; i++) acc += a[i]! * 0;
  if (acc === 0) return;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x - x !== 0) invalid(`${name}[${i}]`, 'a finite number', x);
  }
}

/** Monomorphic loop for the common Float32Array case (several times faster than the generic one). */
function sumTimesZeroF32(a: Float32Array): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += a[i]! * 0;
  return acc;
}

export function checkOneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    invalid(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
  }
  return v as T;
}
