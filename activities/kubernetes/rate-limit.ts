/** Client-side request rate for the Kubernetes API: sustained requests per second and the burst above it. */
export interface RateLimit {
  qps: number;
  burst: number;
}

/**
 * 100 requests per second with bursts of 200. Resolving and quarantining one pod takes up to about ten
 * requests, so 100 simultaneous quarantines need about 1,000: the burst and eight more seconds. The API
 * server admits 600 requests in flight by default (`--max-requests-inflight` 400 plus
 * `--max-mutating-requests-inflight` 200), far more than one worker keeps open at this rate. Set
 * `FIREBREAK_KUBE_QPS` and `FIREBREAK_KUBE_BURST` lower for a small or shared control plane.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 100, burst: 200 };

/**
 * Token bucket that spaces out requests so bulk containment (a drain, a quarantine of many pods) does not
 * flood the API server. Waiters are served in arrival order.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAtMs: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly limit: RateLimit,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!(limit.qps > 0) || !(limit.burst >= 1)) {
      throw new RangeError(`invalid rate limit qps=${limit.qps} burst=${limit.burst}: both must be positive`);
    }
    this.tokens = limit.burst;
    this.refilledAtMs = nowMs();
  }

  /** Waits until a token is free, then takes it. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.takeInTurn());
    this.queue = turn;
    return turn;
  }

  private async takeInTurn(): Promise<void> {
    this.refill();
    if (this.tokens < 1) {
      const waitMs = Math.ceil(((1 - this.tokens) / this.limit.qps) * 1000);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      this.refill();
    }
    this.tokens -= 1;
  }

  private refill(): void {
    const now = this.nowMs();
    const elapsedSec = (now - this.refilledAtMs) / 1000;
    this.tokens = Math.min(this.limit.burst, this.tokens + elapsedSec * this.limit.qps);
    this.refilledAtMs = now;
  }
}
