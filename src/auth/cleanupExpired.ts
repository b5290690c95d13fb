import type { AuthStore, CleanupReport } from '../ports/AuthStore';
import type { Clock } from '../ports/Clock';
import type { Logger } from '../ports/Logger';

/** The timer's job: Table Storage has no TTL, so expired records are deleted by key. */
export async function cleanupExpired(deps: {
  store: AuthStore;
  clock: Clock;
  log: Logger;
}): Promise<CleanupReport> {
  const report = await deps.store.deleteExpired(deps.clock.now());
  deps.log.info(
    `cleanup: ${report.flowsDeleted} flows and ${report.sessionsDeleted} sessions deleted in ${report.partitionsVisited} partitions`,
  );
  return report;
}
