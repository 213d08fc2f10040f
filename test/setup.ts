/**
 * Runs before every test file (vitest `setupFiles`): wires Node's backends as src/index.ts does, so
 * a test may import an op's file directly, and initialises them (the GPU device too) so that
 * `describeEachBackend` sees each backend's final status when it collects tests.
 */
import { wireBackends } from '../src/backends/index.js';
import { initBackends } from '../src/backends/registry.js';

wireBackends();
await initBackends();
