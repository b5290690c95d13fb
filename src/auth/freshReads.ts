/**
 * Concurrent reads of one key share a round trip without ever answering from the past: a read
 * already in flight may have left before a caller arrived (and before, say, a sign-out on
 * another instance deleted the row), so a caller never takes its answer. Callers that arrive
 * while a read is in flight wait for it to end and share the one read that starts then. Every
 * answer therefore comes from a read that began after its caller asked, as if each had read
 * alone; fifty requests of one session at once cost two reads, not fifty. If the read in flight
 * fails, its waiters fail with it (the store is failing now), so none waits out two timeouts.
 */
export class FreshReads<T> {
  private readonly slots = new Map<string, { current: Promise<T>; next?: Promise<T> }>();

  read(key: string, fetch: () => Promise<T>): Promise<T> {
    const slot = this.slots.get(key);
    if (!slot) return this.begin(key, fetch);
    slot.next ??= slot.current.then(() => this.begin(key, fetch));
    return slot.next;
  }

  /** Keys with a read in flight (for tests: nothing is kept once reads end). */
  get size(): number {
    return this.slots.size;
  }

  private begin(key: string, fetch: () => Promise<T>): Promise<T> {
    const slot: { current: Promise<T>; next?: Promise<T> } = { current: fetch() };
    this.slots.set(key, slot);
    // Attached before any waiter's continuation: on success the slot stays while a next read
    // is queued (that read takes its place); on failure it goes, and its waiters fail too.
    const release = (keepForNext: boolean) => () => {
      if (this.slots.get(key) === slot && !(keepForNext && slot.next)) this.slots.delete(key);
    };
    slot.current.then(release(true), release(false));
    return slot.current;
  }
}
