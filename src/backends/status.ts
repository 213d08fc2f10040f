/**
 * `backends()`: every backend (js, cpu, cuda, webgpu) with whether it can run here and, when it
 * cannot, the exact reason (the same text `backend: '<name>'` errors carry). `maskbox doctor` prints it.
 */
import { wireBackends } from './index.js';
import { BACKEND_NAMES, backendStatus, type BackendStatus } from './registry.js';

export type { BackendStatus } from './registry.js';

/**
 * Status of every backend, in the order js, cpu, cuda, webgpu.
 * @example for (const b of backends()) console.log(b.name, b.available, b.reason);
 */
export function backends(): BackendStatus[] {
  wireBackends();
  return BACKEND_NAMES.map((name) => backendStatus(name));
}
