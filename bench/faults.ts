import { TableClient } from '@azure/data-tables';
import { generateKeyPairSync } from 'node:crypto';
import { AUTH_TABLE_NAME } from '../src/adapters/tables/tableLayout';
import { BrowserClient, type ClientResponse } from '../test/support/browserClient';
import type { FaultRule } from '../test/support/faultProxy';
import { me, openLogin, pickUser, USERS } from '../test/support/signInSteps';
import { startStack, type Stack } from '../test/support/stack';

/**
 * The fault table: each fault injected through the proxies in front of Azurite and the
 * emulator, what a user got (code, status), how long until they got it against its bound, how
 * long until sign-in worked again once the fault was removed, and the records left
 * half-written, counted from the table (must be 0). Figures are printed, never asserted here
 * (the integration tests assert the behaviour).
 *
 *   node --import tsx bench/faults.ts
 */

const STORAGE_TIMEOUT_MS = 2000;
const IDP_TIMEOUT_MS = 2000;
/** After a failed code redemption the callback checks for a concurrent duplicate (completeLogin). */
const DUPLICATE_CHECK_MS = 1000;
const RECOVERY_LIMIT_MS = 60_000;
/** The app's own work on top of the outbound budgets (the machine is shared and noisy). */
const APP_ALLOWANCE_MS = 1000;
const TOKEN = /\/oauth2\/v2\.0\/token/;
const KEYS = /\/discovery\/v2\.0\/keys/;

interface Scenario {
  fault: string;
  /** What the user does while the fault is on: start a sign-in, or finish one. */
  step: 'login' | 'callback';
  inject(stack: Stack): Promise<void> | void;
  boundMs?: number;
  /** The failure spends the flow (the code was redeemed): a consumed flow without session. */
  consumes?: boolean;
  /** Needs an app that has never fetched the signing keys (a fresh stack). */
  freshKeys?: boolean;
}

export interface FaultRow {
  fault: string;
  step: string;
  got: string;
  answeredMs: number;
  boundMs?: number;
  recoveryMs: number;
  halfWritten: number;
}

const storageFault = (rule: FaultRule) => (stack: Stack) => stack.faults!.storage.inject(rule);
const idpFault = (rule: FaultRule) => (stack: Stack) => stack.faults!.identityProvider.inject(rule);
const answer = (status: number, body: string, headers: Record<string, string> = {}) => ({
  kind: 'respond' as const,
  status,
  body,
  headers: { 'content-type': 'text/html', ...headers },
});
const idpBound = IDP_TIMEOUT_MS + DUPLICATE_CHECK_MS;

const SCENARIOS: Scenario[] = [
  {
    fault: 'storage never answers',
    step: 'login',
    inject: storageFault({ fault: { kind: 'blackhole' } }),
    boundMs: STORAGE_TIMEOUT_MS,
  },
  {
    fault: 'storage never answers',
    step: 'callback',
    inject: storageFault({ fault: { kind: 'blackhole' } }),
    boundMs: STORAGE_TIMEOUT_MS,
  },
  {
    fault: 'storage resets connections',
    step: 'login',
    inject: storageFault({ fault: { kind: 'reset' } }),
    boundMs: STORAGE_TIMEOUT_MS,
  },
  {
    fault: 'storage answers 503',
    step: 'login',
    inject: storageFault({ fault: answer(503, 'busy') }),
    boundMs: STORAGE_TIMEOUT_MS,
  },
  {
    fault: 'table deleted',
    step: 'login',
    inject: (stack) =>
      TableClient.fromConnectionString(stack.azurite.connectionString, AUTH_TABLE_NAME, {
        allowInsecureConnection: true,
      }).deleteTable(),
  },
  {
    fault: 'answer to the consuming transaction lost',
    step: 'callback',
    inject: storageFault({
      method: 'POST',
      path: /\$batch/,
      fault: { kind: 'loseResponse' },
      times: 1,
    }),
  },
  {
    fault: 'answer to a flow write lost',
    step: 'login',
    inject: storageFault({
      method: 'POST',
      path: new RegExp(`/${AUTH_TABLE_NAME}(\\?|$)`),
      fault: { kind: 'loseResponse' },
      times: 1,
    }),
  },
  {
    fault: 'token endpoint never answers',
    step: 'callback',
    inject: idpFault({ path: TOKEN, fault: { kind: 'blackhole' } }),
    boundMs: idpBound,
  },
  {
    fault: 'token endpoint 429, Retry-After 30',
    step: 'callback',
    inject: idpFault({
      path: TOKEN,
      fault: answer(429, '{"error":"temporarily_unavailable"}', {
        'retry-after': '30',
        'content-type': 'application/json',
      }),
      times: 1,
    }),
    boundMs: idpBound,
  },
  {
    fault: 'token endpoint 500 with HTML',
    step: 'callback',
    inject: idpFault({ path: TOKEN, fault: answer(500, '<h1>error</h1>'), times: 1 }),
    boundMs: idpBound,
  },
  {
    fault: 'token endpoint 200 with garbage',
    step: 'callback',
    inject: idpFault({ path: TOKEN, fault: answer(200, '<p>'), times: 1 }),
    boundMs: idpBound,
    consumes: false,
  },
  {
    fault: 'keys (JWKS) answer 500',
    step: 'callback',
    inject: idpFault({ path: KEYS, fault: answer(500, '<h1>error</h1>') }),
    boundMs: IDP_TIMEOUT_MS,
    consumes: true,
    freshKeys: true,
  },
  {
    fault: 'keys (JWKS) empty set',
    step: 'callback',
    inject: idpFault({ path: KEYS, fault: answer(200, '{"keys":[]}') }),
    boundMs: IDP_TIMEOUT_MS,
    consumes: true,
    freshKeys: true,
  },
  {
    fault: 'keys (JWKS) never answer',
    step: 'callback',
    inject: idpFault({ path: KEYS, fault: { kind: 'blackhole' } }),
    boundMs: IDP_TIMEOUT_MS,
    consumes: true,
    freshKeys: true,
  },
  {
    fault: 'key rotated in right after a fetch',
    step: 'callback',
    inject: idpFault({
      path: KEYS,
      fault: answer(200, unrelatedKeySet(), { 'content-type': 'application/json' }),
      times: 1,
    }),
    freshKeys: true,
  },
];

export async function measureFaults(): Promise<FaultRow[]> {
  const rows: FaultRow[] = [];
  let shared: Stack | undefined;
  try {
    for (const scenario of SCENARIOS) {
      if (scenario.freshKeys) {
        const fresh = await startFaultStack();
        try {
          rows.push(await run(fresh, scenario));
        } finally {
          await fresh.stop();
        }
      } else {
        shared ??= await startFaultStack();
        rows.push(await run(shared, scenario));
      }
    }
  } finally {
    await shared?.stop();
  }
  return rows;
}

function startFaultStack(): Promise<Stack> {
  return startStack({
    faultProxies: true,
    settings: {
      AUTH_STORAGE_TIMEOUT_MS: String(STORAGE_TIMEOUT_MS),
      AUTH_IDP_TIMEOUT_MS: String(IDP_TIMEOUT_MS),
    },
  });
}

async function run(stack: Stack, scenario: Scenario): Promise<FaultRow> {
  const told = { flows: 0, sessions: 0, consumingFailures: 0 };
  const client = new BrowserClient();
  try {
    let callbackUrl: string | undefined;
    if (scenario.step === 'callback') {
      callbackUrl = await pickUser(client, await openLogin(client, stack.appOrigin), USERS.adele);
    }
    await scenario.inject(stack);
    // Counted from here on (past the proxy): what the fault and the recovery leave behind.
    const before = await census(stack);
    const started = performance.now();
    const response = await client.request(callbackUrl ?? `${stack.appOrigin}/api/auth/login`, {
      headers: { accept: 'application/json' },
    });
    const answeredMs = performance.now() - started;
    const outcome = describeOutcome(response);
    if (response.status === 302 && scenario.step === 'login') told.flows += 1;
    if (response.status === 302 && scenario.step === 'callback') told.sessions += 1;
    if (response.status !== 302 && scenario.consumes) told.consumingFailures += 1;

    stack.faults!.storage.clear();
    stack.faults!.identityProvider.clear();
    const recoveryMs = await timeToRecovery(stack, told);
    const after = await census(stack);
    const halfWritten =
      Math.abs(after.flows - before.flows - told.flows) +
      Math.abs(after.sessions - before.sessions - told.sessions) +
      Math.abs(after.consumed - before.consumed - (told.sessions + told.consumingFailures)) +
      after.orphanSessions;
    return {
      fault: scenario.fault,
      step: scenario.step,
      got: outcome,
      answeredMs,
      boundMs: scenario.boundMs,
      recoveryMs,
      halfWritten,
    };
  } finally {
    await client.close();
  }
}

/** From the removal of the fault until a fresh sign-in succeeds end to end. */
async function timeToRecovery(
  stack: Stack,
  told: { flows: number; sessions: number },
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < RECOVERY_LIMIT_MS) {
    const client = new BrowserClient();
    try {
      const login = await client.request(`${stack.appOrigin}/api/auth/login`);
      if (login.status === 302) {
        told.flows += 1;
        const { final } = await client.follow(login.location!);
        const callbackUrl = await pickUser(client, final, USERS.alex);
        const callback = await client.request(callbackUrl);
        if (callback.status === 302) {
          told.sessions += 1;
          if ((await me(client, stack.appOrigin)).status === 200) {
            return performance.now() - started;
          }
        }
      }
    } catch {
      // Not yet: try again.
    } finally {
      await client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Number.POSITIVE_INFINITY;
}

/** The rows as they are in the table, read past the proxy. */
async function census(stack: Stack) {
  const table = TableClient.fromConnectionString(stack.azurite.connectionString, AUTH_TABLE_NAME, {
    allowInsecureConnection: true,
  });
  const counts = { flows: 0, sessions: 0, consumed: 0, orphanSessions: 0 };
  const consumedAt = new Map<string, Set<number>>();
  const sessions: { partition: string; createdAtMs: number }[] = [];
  try {
    for await (const row of table.listEntities<Record<string, unknown>>()) {
      const partition = String(row.partitionKey);
      if (row.kind === 'flow') {
        counts.flows += 1;
        if (typeof row.consumedAtMs === 'number') {
          counts.consumed += 1;
          if (!consumedAt.has(partition)) consumedAt.set(partition, new Set());
          consumedAt.get(partition)!.add(row.consumedAtMs);
        }
      } else if (row.kind === 'session') {
        counts.sessions += 1;
        sessions.push({ partition, createdAtMs: Number(row.createdAtMs) });
      }
    }
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error; // no table yet
  }
  // The consuming transaction writes the flow's consumedAt and the session's createdAt alike.
  counts.orphanSessions = sessions.filter(
    (s) => !consumedAt.get(s.partition)?.has(s.createdAtMs),
  ).length;
  return counts;
}

function describeOutcome(response: ClientResponse): string {
  if (response.status === 302) return '302 signed in / sent on';
  let code = '?';
  try {
    code = response.json<{ error?: string }>().error ?? '?';
  } catch {
    // not JSON
  }
  const retryAfter = response.headers['retry-after'];
  return `${response.status} ${code}${retryAfter ? ` (Retry-After ${String(retryAfter)})` : ''}`;
}

function unrelatedKeySet(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'not-the-signing-key', use: 'sig' }],
  });
}

export function printFaults(rows: readonly FaultRow[]): void {
  console.log(
    `\nFaults (AUTH_STORAGE_TIMEOUT_MS=${STORAGE_TIMEOUT_MS}, AUTH_IDP_TIMEOUT_MS=${IDP_TIMEOUT_MS}; a callback's bound adds the ${DUPLICATE_CHECK_MS} ms duplicate-callback check after a failed redemption; within bound allows ${APP_ALLOWANCE_MS} ms of the app's own work; half-written counted from the table)`,
  );
  console.table(
    rows.map((row) => ({
      fault: row.fault,
      'user step': row.step,
      'user got': row.got,
      'answered ms': Math.round(row.answeredMs),
      'bound ms': row.boundMs ?? '-',
      'within bound':
        row.boundMs === undefined ? '-' : row.answeredMs <= row.boundMs ? 'yes' : 'NO',
      'recovery ms': Number.isFinite(row.recoveryMs) ? Math.round(row.recoveryMs) : 'never',
      'half-written': row.halfWritten,
    })),
  );
}

function withinBound(row: FaultRow): boolean {
  return row.boundMs === undefined || row.answeredMs <= row.boundMs + APP_ALLOWANCE_MS;
}

/** Problems worth a non-zero exit: half-written records, waits past their bound, no recovery. */
export function faultProblems(rows: readonly FaultRow[]): string[] {
  return rows.flatMap((row) => [
    ...(row.halfWritten > 0 ? [`${row.fault}: ${row.halfWritten} half-written records`] : []),
    ...(!withinBound(row)
      ? [
          `${row.fault}: answered in ${Math.round(row.answeredMs)} ms, bound ${row.boundMs} ms (+${APP_ALLOWANCE_MS} ms)`,
        ]
      : []),
    ...(!Number.isFinite(row.recoveryMs) ? [`${row.fault}: never recovered`] : []),
  ]);
}

if (require.main === module) {
  measureFaults()
    .then((rows) => {
      printFaults(rows);
      const problems = faultProblems(rows);
      for (const problem of problems) console.error(problem);
      if (problems.length > 0) process.exitCode = 1;
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    });
}
