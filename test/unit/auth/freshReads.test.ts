import { FreshReads } from '../../../src/auth/freshReads';

/** A store whose reads the test finishes by hand, each answering the value as of its start. */
function manualStore(initial: string) {
  let value = initial;
  const pending: (() => void)[] = [];
  return {
    set(next: string) {
      value = next;
    },
    reads: 0,
    fetch(): Promise<string> {
      this.reads++;
      const seen = value;
      return new Promise((resolve) => pending.push(() => resolve(seen)));
    },
    /** Ends the oldest read in flight and lets its callers and their successors run. */
    async finishOne() {
      pending.shift()?.();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
  };
}

describe('FreshReads', () => {
  it('when callers arrive while a read is in flight, then they share the next read, not that one', async () => {
    const reads = new FreshReads<string>();
    const store = manualStore('live');
    const first = reads.read('s', () => store.fetch());
    store.set('signed out'); // e.g. a sign-out on another instance, after the first read left
    const later = Array.from({ length: 49 }, () => reads.read('s', () => store.fetch()));
    await store.finishOne();
    expect(await first).toBe('live');
    await store.finishOne();
    expect(await Promise.all(later)).toEqual(Array(49).fill('signed out'));
    expect(store.reads).toBe(2);
    expect(reads.size).toBe(0);
  });

  it('when a read fails, then its waiters fail with it (no second wait on a failing store), and the next caller reads afresh', async () => {
    const reads = new FreshReads<string>();
    let second = 0;
    const first = reads.read('s', () => Promise.reject(new Error('storage down')));
    const waiter = reads.read('s', () => (second++, Promise.resolve('never asked')));
    await expect(first).rejects.toThrow('storage down');
    await expect(waiter).rejects.toThrow('storage down');
    expect(second).toBe(0);
    expect(reads.size).toBe(0);
    await expect(reads.read('s', () => Promise.resolve('back'))).resolves.toBe('back');
  });

  it('when reads are of different keys, or one after another, then each reads on its own', async () => {
    const reads = new FreshReads<string>();
    let count = 0;
    const fetch = (v: string) => () => (count++, Promise.resolve(v));
    expect(await Promise.all([reads.read('a', fetch('a')), reads.read('b', fetch('b'))])).toEqual([
      'a',
      'b',
    ]);
    expect(await reads.read('a', fetch('a2'))).toBe('a2');
    expect(count).toBe(3);
  });

  it('when callers keep arriving during each read, then every read after the first serves one batch', async () => {
    const reads = new FreshReads<string>();
    const store = manualStore('v0');
    const answers: Promise<string>[] = [reads.read('s', () => store.fetch())];
    for (let round = 1; round <= 3; round++) {
      store.set(`v${round}`);
      answers.push(
        reads.read('s', () => store.fetch()),
        reads.read('s', () => store.fetch()),
      );
      await store.finishOne();
    }
    await store.finishOne();
    // Each pair arrived after the value it sees was written, and read after arriving.
    expect(await Promise.all(answers)).toEqual(['v0', 'v1', 'v1', 'v2', 'v2', 'v3', 'v3']);
    expect(store.reads).toBe(4);
  });
});
