/**
 * Counting what crosses the wire: the emulator's own request log. (Storage round trips are
 * counted by test/support/faultProxy.ts in front of Azurite, with no rule: it only forwards.)
 */

/**
 * The emulator's calls made by apps, not browsers (EMULATOR_VERBOSE=1 logs `METHOD path status`):
 * discovery, token, keys, userinfo. Authorize, the login pages and logout are the browser's.
 */
const SERVER_SIDE = /^(GET|POST) \S*(\/openid-configuration|\/token|\/keys|\/me|\/userinfo) \d{3}/;

export class IdpCallCounter {
  private calls = 0;
  private pending = '';
  readonly byPath = new Map<string, number>();

  /** Feed it the emulator's stdout. */
  onOutput(chunk: Buffer | string): void {
    this.pending += chunk.toString();
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = line.match(SERVER_SIDE);
      if (!match) continue;
      this.calls++;
      const key = `${match[1]} ${match[2]}`;
      this.byPath.set(key, (this.byPath.get(key) ?? 0) + 1);
    }
  }

  count(): number {
    return this.calls;
  }
}
