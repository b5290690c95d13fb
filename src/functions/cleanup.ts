import type { InvocationContext, Timer } from '@azure/functions';
import { cleanupExpired } from '../auth/cleanupExpired';
import { services } from '../composition';
import { functionsLogger } from './http';

/** Every 5 minutes: NCRONTAB with seconds, as the Functions timer trigger reads it. */
export const CLEANUP_SCHEDULE = '0 */5 * * * *';

/** Timer authCleanup: removes expired flow records and sessions. */
export async function cleanup(_timer: Timer, context: InvocationContext): Promise<void> {
  const { store, clock } = services();
  await cleanupExpired({ store, clock, log: functionsLogger(context) });
}
