import { spawn } from 'node:child_process';
import { getAccessToken, type SessionTokens } from '../src/auth/accessTokens';
import { openTokenCache, sealTokenCache } from '../src/auth/tokenCache';
import { authContext, initialise } from '../src/composition';
import { BrowserClient } from '../test/support/browserClient';
import { emulatorControl } from '../test/support/emulatorControl';
import { signIn, USERS } from '../test/support/signInSteps';
import { startStack, type Stack } from '../test/support/stack';
import { sessionOf } from '../test/support/tokenRows';
import { percentile } from './latency';

/**
 * Access tokens as the user, through the real parts (3 instances, Azurite, the emulator):
 * 1. 50 concurrent /api/profile calls spread over 3 instances, the access token expired: how many
 *    refreshes the emulator's token endpoint saw (the design says 1).
 * 2. The latency getAccessToken adds, measured in a worker process built by the app's own
 *    composition (so with the real Table and MSAL adapters): a cache hit (one read, one
 *    decryption) and a refresh (read, lease write, token endpoint, result write).
 * Figures are printed, never asserted.
 *
 *   node --import tsx bench/tokens.ts [--iterations 50]
 */

export interface TokenBenchReport {
  concurrentCalls: number;
  succeeded: number;
  refreshes: number;
  samples: { cacheHit: number[]; refresh: number[] };
}

const CONCURRENT_CALLS = 50;
const WORKER_FLAG = '--token-bench-worker';

export async function measureTokens(iterations = 50): Promise<TokenBenchReport> {
  const stack = await startStack({ instances: 3 });
  const client = new BrowserClient({ ca: stack.ca });
  try {
    await setLifetime(stack, 1);
    await signIn(client, stack.appOrigin, {
      returnTo: '/api/demo',
      user: USERS.adele,
      scope: 'User.Read',
    });
    await setLifetime(stack, 3600);
    await new Promise((r) => setTimeout(r, 1_100)); // the token from sign-in has expired
    const before = await refreshCount(stack);
    const responses = await Promise.all(
      Array.from({ length: CONCURRENT_CALLS }, (_, i) =>
        client.request(`http://localhost:${stack.instancePorts[i % 3]}/api/profile`, {
          headers: { accept: 'application/json' },
        }),
      ),
    );
    const refreshes = (await refreshCount(stack)) - before;
    const { partition, secret } = await sessionOf(client, stack.appOrigin);
    const samples = await runWorker(stack, `${partition}.${secret}`, iterations);
    return {
      concurrentCalls: CONCURRENT_CALLS,
      succeeded: responses.filter((r) => r.status === 200).length,
      refreshes,
      samples,
    };
  } finally {
    await client.close();
    await stack.stop();
  }
}

export function printTokens(report: TokenBenchReport): void {
  console.log(
    `\nAccess tokens: ${report.concurrentCalls} concurrent /api/profile calls over 3 instances with the token expired: ` +
      `${report.succeeded} succeeded, ${report.refreshes} refresh(es) at the token endpoint (counted by the emulator)`,
  );
  console.table(
    Object.entries(report.samples).map(([step, values]) => ({
      'getAccessToken adds':
        step === 'cacheHit'
          ? 'cache hit (1 read, decrypt)'
          : 'refresh (read, lease, token endpoint, write)',
      n: values.length,
      'p50 ms': round(percentile(values, 50)),
      'p95 ms': round(percentile(values, 95)),
      'max ms': round(Math.max(...values)),
    })),
  );
}

const setLifetime = (stack: Stack, seconds: number) =>
  emulatorControl(stack.emulator.browserOrigin).setAccessTokenSeconds(seconds);
const refreshCount = (stack: Stack) => emulatorControl(stack.emulator.browserOrigin).refreshCount();

/** The worker needs NODE_EXTRA_CA_CERTS at start (the emulator's certificate): a process of its own. */
function runWorker(
  stack: Stack,
  sessionCookie: string,
  iterations: number,
): Promise<TokenBenchReport['samples']> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, WORKER_FLAG], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_EXTRA_CA_CERTS: stack.emulator.certPath,
      AUTH_AUTHORITY: stack.emulator.authority,
      AUTH_CLIENT_ID: stack.emulator.clientId,
      AUTH_CLIENT_SECRET: stack.emulator.clientSecret,
      AUTH_REDIRECT_URI: `${stack.appOrigin}/api/auth/callback`,
      AUTH_STORAGE_CONNECTION_STRING: stack.azurite.connectionString,
      BENCH_SESSION_COOKIE: sessionCookie,
      BENCH_ITERATIONS: String(iterations),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('TOKEN_BENCH '));
      if (code !== 0 || !line)
        return reject(new Error(`token bench worker exited ${code}: ${output}`));
      resolve(JSON.parse(line.slice('TOKEN_BENCH '.length)) as TokenBenchReport['samples']);
    });
  });
}

/** In the worker: getAccessToken through the app's own composition, timed. */
async function worker(): Promise<void> {
  initialise(process.env);
  const quiet = { info: () => undefined, warn: console.warn, error: console.error };
  const ctx = authContext(quiet);
  const [partition, secret] = (process.env.BENCH_SESSION_COOKIE ?? '').split('.') as [
    string,
    string,
  ];
  const { sessionKeyOf } = await import('../src/auth/sessions');
  const session: SessionTokens = { key: sessionKeyOf(partition, secret), secret };
  const iterations = Number(process.env.BENCH_ITERATIONS) || 50;
  const request = { scopes: ['User.Read'] };
  const samples: TokenBenchReport['samples'] = { cacheHit: [], refresh: [] };
  await getAccessToken(ctx, session, request); // warm: discovery, table client
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    await getAccessToken(ctx, session, request);
    samples.cacheHit.push(performance.now() - started);
  }
  for (let i = 0; i < Math.min(iterations, 20); i++) {
    await forgetAccessTokens(ctx, session);
    const started = performance.now();
    await getAccessToken(ctx, session, request);
    samples.refresh.push(performance.now() - started);
  }
  console.log(`TOKEN_BENCH ${JSON.stringify(samples)}`);
  process.exit(0); // pooled connections would keep the worker alive
}

/** Drops the cached access tokens (keeping the refresh token), so the next call must refresh. */
async function forgetAccessTokens(
  ctx: ReturnType<typeof authContext>,
  session: SessionTokens,
): Promise<void> {
  const stored = await ctx.tokenCache.readTokenCache(session.key);
  const contents = stored && openTokenCache(stored.sealed, session.secret, session.key);
  if (!stored || !contents) throw new Error('no token cache to bench');
  const sealed = sealTokenCache({ ...contents, accessTokens: [] }, session.secret, session.key);
  await ctx.tokenCache.replaceTokenCache(session.key, { sealed }, stored.version);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

if (require.main === module) {
  if (process.argv.includes(WORKER_FLAG)) {
    worker().catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    });
  } else {
    const flag = process.argv.indexOf('--iterations');
    measureTokens(flag > 0 ? Number(process.argv[flag + 1]) : 50)
      .then(printTokens)
      .catch((error: unknown) => {
        console.error(error instanceof Error ? (error.stack ?? error.message) : error);
        process.exit(1);
      });
  }
}
