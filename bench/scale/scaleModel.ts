import { randomInt } from 'node:crypto';
import {
  BUCKET_SECONDS,
  bucketOf,
  partitionKey,
  SHARDS,
  TableAuthStore,
} from '../../src/adapters/tables/TableAuthStore';
import { sessionKeyOf } from '../../src/auth/sessions';

/**
 * The storage load of sign-ins at scale, on paper and simulated with the real partitioning code
 * (TableAuthStore.partitionFor for flows, sessionKeyOf for their sessions). Nothing here talks to
 * storage.
 *
 * Per sign-in (the round trips `npm run bench` counts): login writes the flow (1 entity, 1
 * transaction); the callback reads it (1, 1), then one entity-group transaction marks it consumed
 * and inserts the session (2 entities, 1 transaction). All four entity operations hit the flow's
 * partition. Each authenticated request (/me, requireUser) adds 1 read in the session's partition.
 */

export const PER_SIGN_IN = { entities: 4, transactions: 3 } as const;
/** Azure Table Storage scalability targets. */
export const TARGETS = {
  entitiesPerPartitionPerSecond: 2_000,
  transactionsPerAccountPerSecond: 20_000,
} as const;
export const RATES = [1_000, 10_000, 50_000] as const;

/** Which storage account serves a partition. */
export type AccountChooser = (partition: string) => number;

/**
 * The plan (README, "Scale"; not built): the shard at the end of the partition key picks the
 * account from a configured list, so a flow and its session (one partition) share an account.
 */
export const accountByShard =
  (accounts: number): AccountChooser =>
  (partition) =>
    Number(partition.slice(partition.lastIndexOf('-') + 1)) % accounts;

export interface Simulation {
  signIns: number;
  accounts: number;
  /** Partitions written in the busiest time bucket (the ones taking the load at one moment). */
  partitionsInBusiestBucket: number;
  /** The largest partition's share of the busiest bucket's entity operations (ideal 1 / SHARDS). */
  largestPartitionShare: number;
  /** The largest account's share of all transactions (ideal 1 / accounts). */
  largestAccountShare: number;
  /** Sessions keyed outside their flow's partition: must be 0 (one transaction, one partition). */
  sessionsOutsideFlowPartition: number;
}

/**
 * Generates the keys of `signIns` flows and of the sessions they create, at `signInsPerSecond`
 * of simulated time from the start of a time bucket, and tallies partitions and accounts.
 */
export function simulate(
  signIns: number,
  options: {
    signInsPerSecond?: number;
    accounts?: number;
    chooseAccount?: AccountChooser;
    partitionFor?: (createdAt: Date) => string;
    /** Shards per bucket other than the code's SHARDS (the plan's, not built). */
    shards?: number;
  } = {},
): Simulation {
  const { signInsPerSecond = 50_000, accounts = 1, shards } = options;
  const chooseAccount = options.chooseAccount ?? accountByShard(accounts);
  const partitionFor =
    options.partitionFor ??
    (shards
      ? // The plan's shard count, in the real key format.
        (createdAt: Date) => partitionKey(bucketOf(createdAt), randomInt(shards))
      : (createdAt: Date) => TableAuthStore.prototype.partitionFor.call(undefined, createdAt));
  const start = Math.ceil(Date.now() / 1000 / BUCKET_SECONDS) * BUCKET_SECONDS * 1000;
  const perBucket = new Map<string, Map<string, number>>();
  const perAccount = new Array<number>(accounts).fill(0);
  let sessionsOutsideFlowPartition = 0;
  for (let i = 0; i < signIns; i++) {
    const partition = partitionFor(new Date(start + (i * 1000) / signInsPerSecond));
    // The row keys do not move load between partitions; the session's is hashed as in production.
    const session = sessionKeyOf(partition, `session-secret-${i}`);
    if (session.partition !== partition) sessionsOutsideFlowPartition++;
    const bucket = partition.slice(0, partition.lastIndexOf('-'));
    let partitions = perBucket.get(bucket);
    if (!partitions) perBucket.set(bucket, (partitions = new Map()));
    partitions.set(partition, (partitions.get(partition) ?? 0) + PER_SIGN_IN.entities);
    const account = chooseAccount(partition);
    perAccount[account] = (perAccount[account] ?? 0) + PER_SIGN_IN.transactions;
  }
  const busiest = [...perBucket.values()].reduce((a, b) => (sum(b) > sum(a) ? b : a));
  return {
    signIns,
    accounts,
    partitionsInBusiestBucket: busiest.size,
    largestPartitionShare: Math.max(...busiest.values()) / sum(busiest),
    largestAccountShare: Math.max(...perAccount) / (signIns * PER_SIGN_IN.transactions),
    sessionsOutsideFlowPartition,
  };
}

/** The load at a sign-in rate, from a simulation's shares (random shards: rate-independent). */
export function loadAt(signInsPerSecond: number, simulation: Simulation) {
  const partition = simulation.largestPartitionShare * PER_SIGN_IN.entities * signInsPerSecond;
  const account = simulation.largestAccountShare * PER_SIGN_IN.transactions * signInsPerSecond;
  return {
    signInsPerSecond,
    largestPartitionEntitiesPerSecond: partition,
    largestAccountTransactionsPerSecond: account,
    partitionTargetMet: partition <= TARGETS.entitiesPerPartitionPerSecond,
    accountTargetMet: account <= TARGETS.transactionsPerAccountPerSecond,
  };
}

/** 20% headroom for imbalance and the authenticated requests. */
const HEADROOM = 1.2;

/**
 * Shards the plan needs for the sign-in load: the code's SHARDS, doubled until the largest
 * partition (with headroom) is under its target.
 */
export function shardsNeeded(signInsPerSecond: number): number {
  let shards = SHARDS;
  while (
    (signInsPerSecond * PER_SIGN_IN.entities * HEADROOM) / shards >
    TARGETS.entitiesPerPartitionPerSecond
  )
    shards *= 2;
  return shards;
}

/**
 * Accounts the plan needs for the sign-in load, with headroom, rounded up to a divisor of the
 * shard count so every account gets as many shards.
 */
export function accountsNeeded(signInsPerSecond: number, shards = SHARDS): number {
  const minimum = Math.ceil(
    (signInsPerSecond * PER_SIGN_IN.transactions * HEADROOM) /
      TARGETS.transactionsPerAccountPerSecond,
  );
  let accounts = minimum;
  while (shards % accounts !== 0) accounts++;
  return accounts;
}

/**
 * The README's table: at each rate, the code as built (SHARDS, one account) from `simulation`,
 * and the plan (shards and accounts as needed) simulated with `planSignIns` keys of its own.
 */
export function scaleTable(simulation: Simulation, planSignIns = 200_000) {
  return RATES.map((rate) => {
    const built = loadAt(rate, simulation);
    const shards = shardsNeeded(rate);
    const accounts = accountsNeeded(rate, shards);
    const plan = loadAt(rate, simulate(planSignIns, { accounts, shards }));
    return { rate, built, shards, accounts, plan };
  });
}

function sum(counts: Map<string, number>): number {
  let total = 0;
  for (const value of counts.values()) total += value;
  return total;
}

export { SHARDS };
