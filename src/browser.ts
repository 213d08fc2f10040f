/**
 * maskbox for browsers (`import ... from 'maskbox/browser'`): the same ops as the Node entry, on the js
 * and webgpu backends (WebGPU through `navigator.gpu`). No `node:` imports anywhere below this file
 * (`npm run lint` and tsconfig.browser.json check it); file, image and model I/O stay in the Node entry.
 * Bundle it with scripts/build-browser.mjs (dist/browser/maskbox.js).
 */
import { registerBackend } from './backends/registry.js';
import { jsBackend, jsKernels } from './backends/js/index.js';
import { webgpuBackend, webgpuKernels } from './backends/webgpu/index.js';
import { browserGpu } from '../bindings/webgpuBrowser.js';

registerBackend(jsBackend, jsKernels);
registerBackend(webgpuBackend(browserGpu), webgpuKernels);

export * from './api.js';
