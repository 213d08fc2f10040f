/**
 * Reusable memory for the batch runner's file reads and decoded pixels (`runBatch({ reuseBuffers })`).
 *
 * Why: every new ArrayBuffer backing store is external memory to V8, and each ~64 MB of it starts a
 * full mark-compact; a 2048x2048 RGB frame is a 3 MB file and 12.6 MB of pixels, so a fresh pair per
 * image means a major GC every couple of frames and fresh pages to fault in. Recycled buffers cost
 * neither. The runner bounds how many images are alive, so a few buffers serve a whole batch.
 */

/** A free list of ArrayBuffers; `take` hands out a view, `give` returns the memory behind one. */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly mine = new WeakSet<ArrayBufferLike>();

  /** @param maxFree buffers kept for reuse at most (more are left to the GC) */
  constructor(private readonly maxFree: number) {}

  /**
   * A Buffer of exactly `byteLength` bytes (contents undefined) over the smallest free buffer that is
   * large enough, else over a new one with up to 1/8 spare room, so files of similar sizes share buffers.
   */
  take(byteLength: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const n = this.free[i]!.byteLength;
      if (n >= byteLength && (best < 0 || n < this.free[best]!.byteLength)) best = i;
    }
    let ab: ArrayBuffer;
    if (best >= 0) ab = this.free.splice(best, 1)[0]!;
    else {
      const step = byteLength >= 64 ? 2 ** (Math.floor(Math.log2(byteLength)) - 3) : 8;
      ab = new ArrayBuffer(Math.ceil(byteLength / step) * step);
      this.mine.add(ab);
    }
    return Buffer.from(ab, 0, byteLength);
  }

  /**
   * Return the memory behind `view` for reuse: the caller must hold no view of it any more. Views of
   * memory this pool did not hand out (sharp's own, a custom decoder's) and repeats are ignored. When
   * the free list is full, the smallest buffer is dropped.
   */
  give(view: ArrayBufferView | undefined): void {
    const ab = view?.buffer;
    if (!ab || !this.mine.has(ab) || this.free.includes(ab as ArrayBuffer)) return;
    this.free.push(ab as ArrayBuffer);
    if (this.free.length > this.maxFree) {
      let k = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i]!.byteLength < this.free[k]!.byteLength) k = i;
      this.free.splice(k, 1);
    }
  }

  /** Buffers waiting for reuse (tests). */
  get size(): number {
    return this.free.length;
  }
}
