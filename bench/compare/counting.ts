import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Counting what crosses the wire: a forwarding proxy in front of Azurite (every storage round
 * trip, an entity-group transaction counting once), and the emulator's own request log.
 */

export interface CountingProxy {
  port: number;
  count(): number;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const agent = new http.Agent({ keepAlive: true });
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    count: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}

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
