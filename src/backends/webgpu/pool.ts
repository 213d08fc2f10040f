/**
 * A GPU buffer pool (tfjs-webgpu's buffer_manager): free lists keyed by usage and size class. Sizes
 * are rounded up to a power of two (at least 256 bytes) so buffers are reused across nearby sizes;
 * a released buffer goes back to its list, and is handed out again for work submitted after the work
 * that used it (the queue runs submissions in order).
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly device: GPUDevice;
  /** Bytes held by buffers this pool created and did not destroy. */
  bytes = 0;

  constructor(device: GPUDevice) {
    this.device = device;
  }

  /** Size class of a request: the next power of two, at least 256 bytes. */
  static sizeClass(bytes: number): number {
    return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(1, bytes))));
  }

  acquire(bytes: number, usage: number): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const buf = list?.pop();
    if (buf) return buf;
    this.bytes += size;
    return this.device.createBuffer({ size, usage });
  }

  release(buf: GPUBuffer): void {
    const k = `${buf.usage}:${buf.size}`;
    let list = this.free.get(k);
    if (!list) this.free.set(k, (list = []));
    list.push(buf);
  }

  /** Destroy every free buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.bytes = 0;
  }
}
