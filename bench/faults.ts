import { BrowserClient, type ClientResponse } from '../test/support/browserClient';
import { me, openLogin, pickUser, USERS } from '../test/support/signInSteps';
import { startStack, type Stack } from '../test/support/stack';
import {
  DUPLICATE_CHECK_MS,
  IDP_TIMEOUT_MS,
  SCENARIOS,
  STORAGE_TIMEOUT_MS,
  type Scenario,
} from './faultScenarios';
import { authTable } from '../test/support/authTable';

/**
 * The fault table: each fault injected through the proxies in front of Azurite and the
 * emulator, what a user got (code, status), how long until they got it against its bound, how
 * long until sign-in worked again once the fault was removed, and the records left
 * half-written, counted from the table (must be 0). Figures are printed, never asserted here
 * (the integration tests assert the behaviour).
 *
 *   node --import tsx bench/faults.ts
 */

const RECOVERY_LIMIT_MS = 60_000;
/** The app's own work on top of the outbound budgets (the machine is shared and noisy). */
const APP_ALLOWANCE_MS = 1000;

export interface FaultRow {
  fault: string;
  step: string;
  got: string;
  answeredMs: number;
  boundMs?: number;
  recoveryMs: number;
  halfWritten: number;
}

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
    // Rows the users were not told about, or were told about and are missing: flows against
    // logins answered 302, sessions against callbacks answered 302, consumed flows against
    // sessions plus failures that spend the code, and sessions whose flow was not consumed
    // with them.
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
  const table = authTable(stack.azurite.connectionString);
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
      'within bound': row.boundMs === undefined ? '-' : withinBound(row) ? 'yes' : 'NO',
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
