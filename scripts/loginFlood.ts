import { Pool } from 'undici';
import { FLOW_RETENTION_SECONDS } from '../src/auth/cookies';
import { BUCKET_SECONDS } from '../src/adapters/tables/TableAuthStore';
import { CLEANUP_SCHEDULE } from '../src/functions/cleanup';
import { authTable } from '../test/support/authTable';
import { startStack } from '../test/support/stack';

/**
 * `npm run login-flood`: what an anonymous login flood costs (issue 9, row 11). Starts the
 * stack (Azurite, emulator, one local host), sends N cookieless logins from one client, then
 * counts the rows written and their billed size (Azure's entity-size formula), and works out
 * from the code's constants how long each row is kept. Prints figures; asserts nothing.
 *
 *   npm run login-flood -- --logins 3000 --concurrency 20 --return-to-length 2000
 */

const DEFAULT_FLOW_TTL_SECONDS = 600;
/** The cleanup timer's period, from its NCRONTAB schedule ("0 *\/5 * * * *"). */
const CLEANUP_PERIOD_SECONDS = Number(/^\S+ \*\/(\d+) /.exec(CLEANUP_SCHEDULE)?.[1] ?? 5) * 60;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

/**
 * Billed size of an entity: 4 bytes + 2 x (PartitionKey + RowKey) characters + per property
 * 8 bytes + 2 x name characters + the value (string 4 + 2 x characters; numbers and dates 8).
 * @see https://learn.microsoft.com/archive/blogs/avkashchauhan/how-the-size-of-an-entity-is-caclulated-in-windows-azure-table-storage
 */
function billedBytes(entity: Record<string, unknown>): number {
  let bytes = 4 + 2 * (String(entity.partitionKey).length + String(entity.rowKey).length);
  for (const [name, value] of Object.entries(entity)) {
    if (
      ['partitionKey', 'rowKey', 'etag', 'timestamp'].includes(name) ||
      name.endsWith('@odata.type')
    )
      continue;
    const size =
      typeof value === 'string' ? 4 + 2 * value.length : typeof value === 'boolean' ? 1 : 8;
    bytes += 8 + 2 * name.length + size;
  }
  return bytes;
}

async function main(): Promise<void> {
  const logins = option('logins', 3000);
  const concurrency = option('concurrency', 20);
  const returnToLength = option('return-to-length', 0);
  const stack = await startStack();
  const pool = new Pool(stack.appOrigin, { connections: concurrency });
  try {
    const returnTo = returnToLength > 0 ? `?returnTo=/${'a'.repeat(returnToLength - 1)}` : '';
    const statuses = new Map<number, number>();
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < logins) {
          next++;
          const response = await pool.request({
            method: 'GET',
            path: `/api/auth/login${returnTo}`,
          });
          await response.body.dump();
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;

    const sizes: number[] = [];
    let wireBytes = 0;
    for await (const entity of authTable(stack.azurite.connectionString).listEntities()) {
      sizes.push(billedBytes(entity));
      wireBytes += JSON.stringify(entity).length;
    }
    sizes.sort((a, b) => a - b);
    const total = sizes.reduce((a, b) => a + b, 0);
    // A flow row goes with the first cleanup after its bucket end + TTL + retention.
    const keptMin = DEFAULT_FLOW_TTL_SECONDS + FLOW_RETENTION_SECONDS;
    const keptMax = keptMin + BUCKET_SECONDS + CLEANUP_PERIOD_SECONDS;

    console.log(
      `\nLogin flood: ${logins} cookieless logins from one client, ${concurrency} at a time`,
    );
    console.log(
      `  answered in ${seconds.toFixed(1)} s (${Math.round(logins / seconds)}/s): ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    console.log(`  rows written: ${sizes.length} (one per login)`);
    console.log(
      `  billed size per row: min ${sizes[0]} B, median ${sizes[Math.floor(sizes.length / 2)]} B, max ${sizes.at(-1)} B (returnTo of ${returnToLength || 'no'} characters)`,
    );
    console.log(
      `  JSON on the wire per row: ${Math.round(wireBytes / Math.max(1, sizes.length))} B`,
    );
    console.log(
      `  total billed: ${(total / 1024 / 1024).toFixed(2)} MiB; per million logins ${(((total / sizes.length) * 1e6) / 1024 ** 3).toFixed(2)} GiB`,
    );
    console.log(
      `  kept: ${keptMin / 60}-${keptMax / 60} min (flow TTL ${DEFAULT_FLOW_TTL_SECONDS / 60} min + retention ${FLOW_RETENTION_SECONDS / 60} min + up to one ${BUCKET_SECONDS / 60}-min partition bucket + up to one ${CLEANUP_PERIOD_SECONDS / 60}-min cleanup period)`,
    );
    console.log(
      `  storage transactions per million logins: 1,000,000 inserts + about 10,000 batch deletes (100 rows each) + the cleanup's range queries`,
    );
  } finally {
    await pool.close();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
