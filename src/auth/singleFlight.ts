/**
 * Concurrent callers with the same key share one run: within an instance, fifty requests that
 * find the same token expired make one refresh between them. The entry goes when the run ends,
 * so a later call starts afresh.
 */
export class SingleFlight {
  private readonly running = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing as Promise<T>;
    const started = work().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}
