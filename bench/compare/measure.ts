import { Agent, request } from 'undici';
import { freePort, type ManagedProcess } from '../../dev/processes';
import { BrowserClient } from '../../test/support/browserClient';
import { percentile } from '../latency';
import { cpuMillis } from './processes';
import {
  assertSignedIn,
  ROUTES,
  signIn,
  startSystem,
  type Launch,
  type Shared,
  type SystemName,
} from './systems';

/** One repetition's figures for one system, measured against its running process. */

export interface Figures {
  signInMs: number;
  cpuMsPerSignIn: number;
  signInsPerSecond: number;
  meRequestsPerSecond: number;
  meP99Ms: number;
  staticMs: number;
  cookieBytes: number;
  /** The cookies in that header: names and value sizes (never the values). */
  cookieNames: string;
  /** /me at the same concurrency with one session per client (no shared reads). */
  meManySessionsRequestsPerSecond: number;
  meManySessionsP99Ms: number;
  /** App CPU per static page. */
  staticCpuMs: number;
  /** CPU per unit of work by process, ms: where the two cores went. */
  cpu: Record<'signIn' | 'me' | 'meManySessions', ProcessCpu>;
}

/** ms of CPU per sign-in or request: the app, storage (Azurite), the emulator, the load. */
export interface ProcessCpu {
  app: number;
  storage: number;
  idp: number;
  clients: number;
}

/** The processes besides the app whose CPU is counted: Azurite (the project's only) and the emulator. */
export interface Helpers {
  storagePid: number;
  idpPid: number;
}

/** CPU of every process of the run from now on, per `units` of work when read. */
function cpuMeter(appPid: number, helpers: Helpers) {
  const read = () => ({
    app: cpuMillis(appPid),
    storage: cpuMillis(helpers.storagePid),
    idp: cpuMillis(helpers.idpPid),
    clients: (({ user, system }) => (user + system) / 1000)(process.cpuUsage()),
  });
  const before = read();
  return (units: number): ProcessCpu => {
    const after = read();
    const per = (k: keyof ProcessCpu) => (after[k] - before[k]) / units;
    return { app: per('app'), storage: per('storage'), idp: per('idp'), clients: per('clients') };
  };
}

export interface MeasureSizes {
  sequentialSignIns: number;
  concurrentSignIns: number;
  signInConcurrency: number;
  meRequests: number;
  meConcurrency: number;
  staticRequests: number;
}

export const SIZES: MeasureSizes = {
  sequentialSignIns: 20,
  concurrentSignIns: 100,
  signInConcurrency: 20,
  meRequests: 3_000,
  meConcurrency: 50,
  staticRequests: 300,
};

export interface Running {
  system: SystemName;
  origin: string;
  process: ManagedProcess;
}

export async function measure(
  running: Running,
  sizes: MeasureSizes,
  helpers: Helpers,
  progress: (line: string) => void,
): Promise<Figures & { cookieHeader: string }> {
  const { system, origin } = running;
  const pid = running.process.child.pid!;

  // Sequential sign-ins: app time per sign-in (login + callback + me), and the session for /me.
  const times: number[] = [];
  let cookieHeader = '';
  const sequentialCpu = cpuMeter(pid, helpers);
  for (let i = 0; i < sizes.sequentialSignIns; i++) {
    const client = new BrowserClient();
    try {
      const t = await signIn(client, system, origin);
      times.push(t.loginMs + t.callbackMs + t.meMs);
      cookieHeader = await client.jar.getCookieString(`${origin}${ROUTES[system].me}`);
    } finally {
      await client.close();
    }
  }
  const sequentialAppMs = sequentialCpu(1).app;
  progress(`${system}: ${sizes.sequentialSignIns} sequential sign-ins done`);

  // Sign-ins at concurrency 20 (fresh browsers, the emulator's pages included); their
  // sessions serve the many-sessions /me below.
  const signInCpu = cpuMeter(pid, helpers);
  const started = performance.now();
  const sessions: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: sizes.signInConcurrency }, async () => {
      while (next++ < sizes.concurrentSignIns) {
        const client = new BrowserClient();
        try {
          await signIn(client, system, origin);
          sessions.push(await client.jar.getCookieString(`${origin}${ROUTES[system].me}`));
        } finally {
          await client.close();
        }
      }
    }),
  );
  const signInsPerSecond = sizes.concurrentSignIns / ((performance.now() - started) / 1000);
  const signInShares = signInCpu(sizes.concurrentSignIns);
  const cpuMsPerSignIn =
    (sequentialAppMs + signInShares.app * sizes.concurrentSignIns) /
    (sizes.sequentialSignIns + sizes.concurrentSignIns);
  progress(`${system}: ${sizes.concurrentSignIns} sign-ins at c=${sizes.signInConcurrency} done`);

  const meUrl = `${origin}${ROUTES[system].me}`;
  const signedIn = (status: number, body: string) => assertSignedIn(system, status, body);
  let meter = cpuMeter(pid, helpers);
  const me = await load(
    meUrl,
    () => ({ cookie: cookieHeader, accept: 'application/json' }),
    sizes.meRequests,
    sizes.meConcurrency,
    signedIn,
  );
  const meShares = meter(me.requests);
  // The same load with a session per client: what a crowd of users costs, where one
  // session's concurrent requests share their reads and these cannot.
  meter = cpuMeter(pid, helpers);
  const meMany = await load(
    meUrl,
    (client) => ({ cookie: sessions[client % sessions.length]!, accept: 'application/json' }),
    sizes.meRequests,
    sizes.meConcurrency,
    signedIn,
  );
  const meManyShares = meter(meMany.requests);
  progress(
    `${system}: ${sizes.meRequests} /me at c=${sizes.meConcurrency} done (1 and many sessions)`,
  );
  meter = cpuMeter(pid, helpers);
  const floor = await load(
    `${origin}${ROUTES[system].staticPage}`,
    () => ({}),
    sizes.staticRequests,
    1,
  );
  const staticCpuMs = meter(floor.requests).app;
  return {
    signInMs: percentile(times, 50),
    cpuMsPerSignIn,
    signInsPerSecond,
    meRequestsPerSecond: me.requestsPerSecond,
    meP99Ms: me.p99Ms,
    staticMs: floor.p50Ms,
    cookieBytes: Buffer.byteLength(cookieHeader),
    cookieNames: describeCookies(cookieHeader),
    cookieHeader,
    meManySessionsRequestsPerSecond: meMany.requestsPerSecond,
    meManySessionsP99Ms: meMany.p99Ms,
    staticCpuMs,
    cpu: { signIn: signInShares, me: meShares, meManySessions: meManyShares },
  };
}

/**
 * `total` GETs by `concurrency` workers (each with its own headers) over kept-alive connections,
 * after a warm-up tenth. `requests` counts both, for CPU per request.
 */
async function load(
  url: string,
  headersOf: (client: number) => Record<string, string>,
  total: number,
  concurrency: number,
  check?: (status: number, body: string) => void,
): Promise<{ requestsPerSecond: number; p50Ms: number; p99Ms: number; requests: number }> {
  const agent = new Agent({ connections: concurrency, pipelining: 1 });
  try {
    const one = async (headers: Record<string, string>) => {
      const started = performance.now();
      const response = await request(url, { headers, dispatcher: agent });
      const body = await response.body.text();
      const ms = performance.now() - started;
      if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
      check?.(response.statusCode, body);
      return ms;
    };
    const run = async (count: number) => {
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, client) => {
          const headers = headersOf(client);
          while (next++ < count) latencies.push(await one(headers));
        }),
      );
      return { latencies, seconds: (performance.now() - started) / 1000 };
    };
    const warmUp = Math.ceil(total / 10);
    await run(warmUp);
    const { latencies, seconds } = await run(total);
    return {
      requestsPerSecond: total / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      requests: warmUp + total,
    };
  } finally {
    await agent.close();
  }
}

/**
 * Process spawn to the first /me that answers 200 with the user, for a session made earlier
 * (Table Storage rows, or the peer's JWT with the same secret, survive a restart).
 */
export async function coldStart(
  launch: Launch,
  system: SystemName,
  shared: Shared,
  cookieHeader: string,
  plainServe: string | undefined,
  redirectPort: number,
): Promise<number> {
  const port = await freePort();
  const url = `http://localhost:${port}${ROUTES[system].me}`;
  const agent = new Agent({ connect: { timeout: 1_000 } });
  const started = performance.now();
  const spawned = startSystem(launch, shared, { port, plainServe, redirectPort });
  spawned.catch(() => undefined);
  try {
    for (;;) {
      try {
        const response = await request(url, {
          headers: { cookie: cookieHeader, accept: 'application/json' },
          dispatcher: agent,
        });
        const body = await response.body.text();
        assertSignedIn(system, response.statusCode, body);
        return performance.now() - started;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== 'ECONNREFUSED' && code !== 'UND_ERR_SOCKET') throw error;
        if (performance.now() - started > 60_000)
          throw new Error(`${launch}: no /me within 60 s`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  } finally {
    await agent.close();
    await (await spawned).stop();
  }
}

/** `name (value bytes)` for each cookie of a Cookie header. */
export function describeCookies(header: string): string {
  return header
    .split('; ')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return `\`${pair.slice(0, eq)}\` (${Buffer.byteLength(pair) - eq - 1} B)`;
    })
    .join(', ');
}
