/**
 * `backends()`: every backend (js, cpu, cuda, webgpu) with whether it can run here and, when it
 * cannot, the exact reason (the same text `backend: '<name>'` errors carry). `maskbox doctor` prints it.
 * Depends on the registry only: the entry point wired the backends.
 */
import { BACKEND_NAMES, backendStatus, type BackendStatus } from './registry.js';

export type { BackendStatus } from './registry.js';

/**
 * Status of every backend, in the order js, cpu, cuda, webgpu, as known now: a GPU backend that was
 * not initialised yet says so (`initialised: false`); `await initBackends()` acquires the devices
 * first and returns the same list with each adapter (and whether it is a software fallback).
 * @example for (const b of backends()) console.log(b.name, b.available, b.reason);
 */
export function backends(): BackendStatus[] {
  return BACKEND_NAMES.map((name) => backendStatus(name));
}
