/**
 * Where the bundled model lives: `models/cdv-yolov6-tiny.onnx` under the package root, found by walking
 * up from this file to the `package.json` named `maskbox` (works from `src/` under tsx and from `dist/`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bundled detector, relative to the package root. */
export const DEFAULT_MODEL_RELATIVE = 'models/cdv-yolov6-tiny.onnx';

let root: string | undefined;

/** The maskbox package root (the folder holding its package.json). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'maskbox') return (root = dir);
      } catch {
        // not our package.json: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('maskbox package root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Absolute path of the bundled vesicle detector (it may not exist in a checkout before training). */
export function defaultModelPath(): string {
  return join(packageRoot(), DEFAULT_MODEL_RELATIVE);
}
