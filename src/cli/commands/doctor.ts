/** `maskbox doctor`: which backends can run here (with the exact reason when not) and the native dependencies' versions. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { nativeStatus } from '../../../bindings/native.js';
import { initBackends } from '../../backends/registry.js';
import { NO_ADAPTER_HELP } from '../../backends/webgpu/device.js';
import { pngDecoderStatus } from '../../io/pngNative.js';
import { parseFlags, printJson, printTable, type Command } from '../command.js';

export interface PackageReport {
  name: string;
  /** Installed version, or null when the package is not installed. */
  version: string | null;
  /** Whether it imports; the error text when it does not. */
  loads: boolean;
  error?: string;
}

const require = createRequire(import.meta.url);

function installedVersion(name: string): string | null {
  try {
    // The main entry's folder chain holds the package.json (some packages do not export ./package.json).
    let dir = dirname(require.resolve(name));
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? null;
      } catch {
        // no package.json here
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return null;
}

async function probePackage(name: string): Promise<PackageReport> {
  const version = installedVersion(name);
  if (version === null) return { name, version, loads: false, error: 'not installed' };
  try {
    await import(name);
    return { name, version, loads: true };
  } catch (err) {
    return { name, version, loads: false, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

const options = { json: { type: 'boolean' } } as const;

export const doctorCommand: Command = {
  path: ['doctor'],
  summary: 'List backends (js, cpu, cuda, webgpu) with their device, why one is unavailable, and native dependencies',
  usage: 'maskbox doctor [--json]',
  async run(argv) {
    const { values } = parseFlags(() => parseArgs({ args: argv, options, allowPositionals: false }));
    const list = await initBackends(); // acquires the GPU device, so webgpu reports its adapter
    const packages = [
      await probePackage('onnxruntime-node'),
      await probePackage('sharp'),
      await probePackage('webgpu'),
    ];
    const native = nativeStatus();
    const report = {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      backends: list,
      native: { path: native.path, info: native.info ?? null },
      pngDecoder: pngDecoderStatus(),
      packages,
    };
    if (values.json) {
      printJson(report);
      return 0;
    }
    process.stdout.write(`maskbox doctor — node ${report.node}, ${report.platform}\n\n`);
    printTable(
      ['backend', 'available', 'reason'],
      list.map((b) => [b.name, b.available ? (b.software ? 'yes (software)' : 'yes') : 'no', b.reason]),
    );
    const gpu = list.find((b) => b.name === 'webgpu');
    if (gpu && !gpu.available && !gpu.reason.includes('VK_DRIVER_FILES'))
      process.stdout.write(`\nwebgpu: ${NO_ADAPTER_HELP}\n`);
    process.stdout.write(`\npng decode: ${report.pngDecoder.decoder} (${report.pngDecoder.detail})\n\n`);
    printTable(
      ['package', 'version', 'loads'],
      packages.map((p) => [p.name, p.version ?? '-', p.loads ? 'yes' : `no: ${p.error ?? ''}`]),
    );
    return 0;
  },
};
