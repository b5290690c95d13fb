import { profileProject } from './compare/profile';
import { sideBySide } from './compare/sideBySide';
import { scaleTable, simulate, SHARDS } from './scale/scaleModel';

/**
 * `npm run bench -- --only <part>[,<part>]` runs parts alone; `--help` lists them. Without
 * --only every part runs except `profile`.
 */

export const PARTS = {
  'scale-out':
    'Chromium through a random load balancer: this project beside the naive in-memory variant',
  latency: 'login / callback / me latency through the real stack',
  tokens:
    'access tokens: refreshes for 50 concurrent calls over 3 instances, latency of a cache hit and a refresh',
  faults:
    'storage and identity provider faults through the fault-injection proxies: what users got, bounds, recovery',
  'side-by-side':
    'this project beside Auth.js (bench/peer), 3 interleaved repetitions, the issue 13 table',
  scale: 'the scale model: a million simulated flows and sessions, partition and account load',
  profile:
    'CPU profiles of this project under 200 sign-ins (c=20) and 3,000 /me (c=50); not in the default run',
} as const;

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? '').split(',').filter(Boolean)) : undefined;

export const helpWanted = args.includes('--help') || args.includes('-h');

/** Whether a part runs in this invocation. Parts other files add can ask too. */
export function wants(part: string): boolean {
  return only ? only.has(part) : part !== 'profile';
}

export function printHelp(): void {
  console.log('npm run bench [-- --only <part>[,<part>...]]\n\nparts:');
  for (const [name, what] of Object.entries(PARTS)) console.log(`  ${name.padEnd(13)} ${what}`);
}

const progress = (line: string) => console.log(`[bench] ${line}`);

/** The parts of bench/compare and bench/scale. */
export async function runComparisonParts(): Promise<void> {
  if (wants('side-by-side')) {
    progress('side by side with the peer (Auth.js): 3 repetitions');
    const { report } = await sideBySide({ progress });
    console.log(
      `\nThis project beside Auth.js (@auth/express 0.12.3, Microsoft Entra ID provider)\n`,
    );
    console.log(report.text);
    const missed = report.verdicts.filter((v) => !v.met).map((v) => v.figure);
    console.log(missed.length ? `\nTargets not met: ${missed.join('; ')}.` : '\nEvery target met.');
  }
  if (wants('scale')) {
    progress('scale model: a million simulated sign-ins');
    const one = simulate(1_000_000);
    console.log(
      `\nScale model (${SHARDS} shards, a million simulated flows and sessions in one time bucket): largest partition ${(one.largestPartitionShare * 100).toFixed(2)}% (even: ${(100 / SHARDS).toFixed(2)}%)`,
    );
    console.table(
      scaleTable(one).map(({ rate, built, shards, accounts, plan }) => ({
        'sign-ins/s': rate,
        'largest partition entities/s': Math.round(built.largestPartitionEntitiesPerSecond),
        'partition ≤ 2,000': built.partitionTargetMet,
        'one account tx/s': Math.round(built.largestAccountTransactionsPerSecond),
        'account ≤ 20,000': built.accountTargetMet,
        'plan (not built): shards / accounts': `${shards} / ${accounts}`,
        'plan: largest partition entities/s': Math.round(plan.largestPartitionEntitiesPerSecond),
        'plan: largest account tx/s': Math.round(plan.largestAccountTransactionsPerSecond),
        'plan meets both': plan.partitionTargetMet && plan.accountTargetMet,
      })),
    );
  }
  if (wants('profile')) console.log(`\n${await profileProject(progress)}`);
}
