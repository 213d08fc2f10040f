/**
 * The page's backends: the browser entry of maskbox (src/browser.ts) registers js and webgpu (through
 * `navigator.gpu`); this starts them and says which can run. `auto` then runs an op on WebGPU where the
 * browser has a hardware adapter and on the TypeScript reference otherwise.
 */
import { backends, initBackends } from '../src/browser.js';

/** Start the page's backends; returns each one's name with `available` and, when not, the reason. */
export async function startBackends(): Promise<{ name: string; available: boolean; reason?: string }[]> {
  await initBackends(['js', 'webgpu']);
  return backends()
    .filter((b) => b.name === 'js' || b.name === 'webgpu')
    .map((b) => ({ name: b.name, available: b.available, ...(b.available ? {} : { reason: b.reason }) }));
}
