/**
 * Admission and concurrency: at most `concurrency` requests compute at once, at most `queue` more wait
 * (uploading or queued); past that a request is refused at once (the server answers 503 with
 * `Retry-After`) instead of piling up memory.
 */

/** A compute slot; call `release()` exactly once (further calls do nothing). */
export interface Slot {
  release(): void;
}

/** Counts of the gate, for metrics. */
export interface GateState {
  /** Admitted requests not yet finished (computing + waiting). */
  admitted: number;
  /** Requests holding a compute slot. */
  running: number;
  /** Admitted requests not computing: uploading or waiting for a slot. */
  queued: number;
}

export class Gate {
  private admittedCount = 0;
  private runningCount = 0;
  private readonly waiters: (() => void)[] = [];

  /**
   * @param concurrency requests computing at once (>= 1)
   * @param queue requests admitted beyond those (>= 0)
   */
  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {}

  /** Admit a request, or return false when `concurrency + queue` are already admitted. */
  admit(): boolean {
    if (this.admittedCount >= this.concurrency + this.queue) return false;
    this.admittedCount++;
    return true;
  }

  /** Undo one `admit()` (when the request ends, however it ends). */
  leave(): void {
    if (this.admittedCount > 0) this.admittedCount--;
  }

  /** Wait for a compute slot. */
  async acquire(): Promise<Slot> {
    if (this.runningCount >= this.concurrency) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.runningCount++;
    let done = false;
    return {
      release: () => {
        if (done) return;
        done = true;
        const next = this.waiters.shift();
        if (next)
          next(); // the slot passes straight to the next waiter
        else this.runningCount--;
      },
    };
  }

  state(): GateState {
    return {
      admitted: this.admittedCount,
      running: this.runningCount,
      queued: Math.max(0, this.admittedCount - this.runningCount),
    };
  }
}
