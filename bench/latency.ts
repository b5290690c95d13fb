import { BrowserClient } from '../test/support/browserClient';
import { me, openLogin, pickUser, USERS } from '../test/support/signInSteps';
import { startStack } from '../test/support/stack';

/**
 * Latency of the app's own steps through the real stack (one instance of the served
 * functions, Azurite, the emulator), measured from a client: login (flow record written),
 * callback (flow consumed, code redeemed at the emulator, session written), me (session read).
 * The emulator's own pages are not timed. Figures are printed, never asserted.
 *
 *   node --import tsx bench/latency.ts [--iterations 50]
 */

export interface LatencyReport {
  iterations: number;
  /** Milliseconds per step, in the order measured. */
  samples: Record<'login' | 'callback' | 'me', number[]>;
}

const WARM_UP = 3;

export async function measureLatency(iterations = 50): Promise<LatencyReport> {
  const stack = await startStack();
  const samples: LatencyReport['samples'] = { login: [], callback: [], me: [] };
  try {
    for (let i = 0; i < WARM_UP + iterations; i++) {
      const client = new BrowserClient({ ca: stack.ca });
      try {
        const record = i >= WARM_UP;
        const loginUrl = `${stack.appOrigin}/api/auth/login?returnTo=%2Fapi%2Fhello`;
        const login = await timed(() => client.request(loginUrl));
        if (login.value.status !== 302) throw new Error(`login answered ${login.value.status}`);
        const loginPage = await openLogin(client, stack.appOrigin, '?returnTo=%2Fapi%2Fhello');
        const callbackUrl = await pickUser(client, loginPage, USERS.adele);
        const callback = await timed(() => client.request(callbackUrl));
        if (callback.value.status !== 302) {
          throw new Error(`callback answered ${callback.value.status}`);
        }
        const session = await timed(() => me(client, stack.appOrigin));
        if (session.value.status !== 200) throw new Error(`me answered ${session.value.status}`);
        if (record) {
          samples.login.push(login.ms);
          samples.callback.push(callback.ms);
          samples.me.push(session.ms);
        }
      } finally {
        await client.close();
      }
    }
  } finally {
    await stack.stop();
  }
  return { iterations, samples };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function printLatency(report: LatencyReport): void {
  console.log(
    `\nLatency through the real stack (1 instance, Azurite, emulator; ${report.iterations} sign-ins after ${WARM_UP} warm-up)`,
  );
  console.table(
    Object.entries(report.samples).map(([step, values]) => ({
      step,
      n: values.length,
      'p50 ms': round(percentile(values, 50)),
      'p95 ms': round(percentile(values, 95)),
      'max ms': round(Math.max(...values)),
    })),
  );
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

if (require.main === module) {
  const flag = process.argv.indexOf('--iterations');
  const iterations = flag > 0 ? Number(process.argv[flag + 1]) : 50;
  measureLatency(iterations)
    .then(printLatency)
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
