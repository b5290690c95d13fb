import { randomBytes } from 'node:crypto';
import { freePort, stopAll, type ManagedProcess } from '../../dev/processes';
import { BrowserClient } from '../../test/support/browserClient';
import { startTestAzurite } from '../../test/support/azurite';
import { startFaultProxy } from '../../test/support/faultProxy';
import { measureConversion } from './conversion';
import { IdpCallCounter } from './counting';
import { coldStart, measure, SIZES, type MeasureSizes, type Running } from './measure';
import { buildPlainServe, ensurePeerInstalled } from './processes';
import { formatReport, type CountRow, type Counts, type Repetition } from './report';
import {
  peerRedirectUri,
  projectRedirectUri,
  ROUTES,
  signIn,
  startEmulator,
  startSystem,
  type Shared,
  type SystemName,
} from './systems';

/**
 * This project beside the Auth.js peer (bench/peer), against one Azurite and one emulator,
 * repetitions interleaved (the order alternates), then storage round trips and IdP calls
 * counted on the wire. Prints a progress line per step and the table; asserts nothing.
 */

export interface SideBySideOptions {
  repetitions?: number;
  sizes?: MeasureSizes;
  progress?: (line: string) => void;
}

export async function sideBySide(options: SideBySideOptions = {}) {
  const repetitions = options.repetitions ?? 3;
  const sizes = options.sizes ?? SIZES;
  const progress = options.progress ?? ((line: string) => console.log(`[bench] ${line}`));
  ensurePeerInstalled(progress);
  const plainServe = await buildPlainServe();

  const started: (ManagedProcess | { stop(): Promise<void> })[] = [];
  try {
    const [projectPort, peerPort, countingPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
    ]);
    progress('starting Azurite and the emulator');
    const azurite = await startTestAzurite();
    started.push(azurite.process);
    const emulator = await startEmulator([
      projectRedirectUri(projectPort),
      projectRedirectUri(countingPort),
      peerRedirectUri(peerPort),
    ]);
    started.push(emulator.process);
    const idpCalls = new IdpCallCounter();
    emulator.process.child.stdout?.on('data', (chunk: Buffer) => idpCalls.onOutput(chunk));
    const shared: Shared = {
      emulator,
      storageConnectionString: azurite.tableConnectionString,
      peerSecret: randomBytes(32).toString('base64url'),
    };

    progress('starting this project (as npm run serve serves it) and the peer');
    // Both start at once; whichever started is stopped even when the other failed to.
    const launched = await Promise.allSettled([
      startSystem('serve', shared, { port: projectPort }),
      startSystem('peer', shared, { port: peerPort }),
    ]);
    for (const result of launched) if (result.status === 'fulfilled') started.push(result.value);
    const [project, peer] = launched.map((result) => {
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    }) as [ManagedProcess, ManagedProcess];
    const running: Record<SystemName, Running> = {
      project: { system: 'project', origin: `http://localhost:${projectPort}`, process: project },
      peer: { system: 'peer', origin: `http://localhost:${peerPort}`, process: peer },
    };
    for (const system of ['project', 'peer'] as const) {
      // Warm-up: the first sign-ins load code and fetch discovery and keys.
      for (let i = 0; i < 3; i++)
        await withClient((c) => signIn(c, system, running[system].origin));
    }

    const helpers = { storagePid: azurite.process.child.pid!, idpPid: emulator.process.child.pid! };
    const reps: Repetition[] = [];
    for (let rep = 1; rep <= repetitions; rep++) {
      const order: SystemName[] = rep % 2 ? ['project', 'peer'] : ['peer', 'project'];
      const results: Partial<Repetition> = {};
      for (const system of order) {
        progress(`repetition ${rep}/${repetitions}: ${system}`);
        const figures = await measure(running[system], sizes, helpers, progress);
        const cold = (launch: 'serve' | 'plain-node' | 'peer') =>
          coldStart(launch, system, shared, figures.cookieHeader, plainServe, projectPort);
        const coldServeMs = await cold(system === 'peer' ? 'peer' : 'serve');
        const coldPlainMs = await cold(system === 'peer' ? 'peer' : 'plain-node');
        progress(
          `${system}: cold starts ${Math.round(coldServeMs)} ms / ${Math.round(coldPlainMs)} ms`,
        );
        results[system] = { ...figures, coldServeMs, coldPlainMs };
      }
      reps.push(results as Repetition);
    }

    progress('counting storage round trips and identity-provider calls');
    // Every storage round trip crosses it once (an entity-group transaction is one request).
    const proxy = await startFaultProxy({ target: `http://127.0.0.1:${azurite.port}` });
    started.push({ stop: () => proxy.close() });
    const counting = await startSystem('serve', shared, {
      port: countingPort,
      storageConnectionString: azurite.tableConnectionString.replace(
        `:${azurite.port}/`,
        `:${proxy.port}/`,
      ),
    });
    started.push(counting);
    const counts: Counts = {
      project: await countCalls(
        'project',
        `http://localhost:${countingPort}`,
        idpCalls,
        () => proxy.requests.length,
      ),
      peer: await countCalls('peer', running.peer.origin, idpCalls, undefined),
    };
    const conversionUs = await measureConversion();
    return { reps, counts, report: formatReport(reps, counts, conversionUs) };
  } finally {
    await stopAll(started as ManagedProcess[]);
  }
}

async function withClient<T>(run: (client: BrowserClient) => Promise<T>): Promise<T> {
  const client = new BrowserClient();
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

/** The emulator logs after answering: wait until its count stops moving. */
async function settled(count: () => number): Promise<number> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return last;
}

const COUNTED_SIGN_INS = 10;
const COUNTED_ME = 20;

/**
 * Per sign-in = (calls during full sign-ins - their /me calls) / sign-ins; per /me from /me
 * requests alone. The first sign-in of a process is counted apart (discovery, keys).
 */
async function countCalls(
  system: SystemName,
  origin: string,
  idp: IdpCallCounter,
  storage: (() => number) | undefined,
): Promise<CountRow> {
  const storageCount = storage ?? (() => 0);
  const idpBefore = await settled(() => idp.count());
  let cookie = '';
  await withClient(async (client) => {
    await signIn(client, system, origin);
    cookie = await client.jar.getCookieString(`${origin}${ROUTES[system].me}`);
  });
  const idpFirstSignIn = (await settled(() => idp.count())) - idpBefore;

  const before = { idp: idp.count(), storage: storageCount(), paths: new Map(idp.byPath) };
  for (let i = 0; i < COUNTED_SIGN_INS; i++) await withClient((c) => signIn(c, system, origin));
  const afterSignIns = { idp: await settled(() => idp.count()), storage: storageCount() };
  const idpPaths = [...idp.byPath]
    .map(([call, n]) => [call, (n - (before.paths.get(call) ?? 0)) / COUNTED_SIGN_INS] as const)
    .filter(([, n]) => n > 0)
    .map(([call, n]) => `${call} ×${n}`)
    .join(', ');
  for (let i = 0; i < COUNTED_ME; i++) {
    await withClient(async (client) => {
      const response = await client.request(`${origin}${ROUTES[system].me}`, {
        headers: { cookie, accept: 'application/json' },
      });
      if (response.status !== 200) throw new Error(`${system}: /me answered ${response.status}`);
    });
  }
  const afterMe = { idp: await settled(() => idp.count()), storage: storageCount() };
  const perMe = {
    idp: (afterMe.idp - afterSignIns.idp) / COUNTED_ME,
    storage: (afterMe.storage - afterSignIns.storage) / COUNTED_ME,
  };
  return {
    storageConfigured: storage !== undefined,
    storageSignIn: (afterSignIns.storage - before.storage) / COUNTED_SIGN_INS - perMe.storage,
    storageMe: perMe.storage,
    idpSignIn: (afterSignIns.idp - before.idp) / COUNTED_SIGN_INS - perMe.idp,
    idpMe: perMe.idp,
    idpPaths,
    // The peer has run sign-ins before; only the counting instance is fresh here.
    idpFirstSignIn: system === 'project' ? idpFirstSignIn : undefined,
  };
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  sideBySide(
    quick
      ? {
          repetitions: 1,
          sizes: {
            ...SIZES,
            sequentialSignIns: 5,
            concurrentSignIns: 20,
            meRequests: 300,
            staticRequests: 50,
          },
        }
      : {},
  )
    .then(({ report }) => console.log(`\n${report.text}`))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    });
}
