/** Runs at most `maxInFlight` tasks at once; later tasks wait for a free slot in arrival order. */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly maxInFlight: number) {
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new Error(`invalid concurrency limit ${maxInFlight}: expected a positive integer`);
    }
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.maxInFlight) {
      this.active += 1;
    } else {
      // The slot is handed over by the task that frees it, so `active` stays unchanged.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) {
        this.active -= 1;
      } else {
        next();
      }
    }
  }

  /** Tasks running now. */
  get inFlight(): number {
    return this.active;
  }
}
