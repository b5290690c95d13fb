import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Servers on loopback only (never on the network), on 127.0.0.1 and, when the machine has IPv6,
 * on [::1] with the same port: browsers and clients resolve "localhost" to either.
 */
export async function listenOnLoopback<S extends Server>(
  port: number,
  createServer: () => S,
): Promise<S[]> {
  for (let attempt = 1; ; attempt += 1) {
    const ipv4 = createServer();
    await listen(ipv4, port, '127.0.0.1');
    const chosen = (ipv4.address() as AddressInfo).port;
    const ipv6 = createServer();
    try {
      await listen(ipv6, chosen, '::1');
      return [ipv4, ipv6];
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') return [ipv4];
      await closeServers([ipv4]);
      // A port free on IPv4 can be taken on IPv6; with port 0, simply try another one.
      if (code !== 'EADDRINUSE' || port !== 0 || attempt >= 5) {
        throw new Error(`Cannot listen on [::1]:${chosen} (${code}).`, { cause: error });
      }
    }
  }
}

/** Closes the servers, ending keep-alive connections that would otherwise hold close() open. */
export async function closeServers(servers: readonly Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
}

/** The port the first server listens on. */
export function portOf(servers: readonly Server[]): number {
  return (servers[0]?.address() as AddressInfo).port;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
