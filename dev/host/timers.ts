import { Cron } from 'croner';
import { randomUUID } from 'node:crypto';
import type { FunctionsCoreRegistry, RpcLogLevel } from './functionsCore';
import { invokeFunction } from './invoke';
import { triggerOf } from './triggers';

/** Timer functions on their NCRONTAB schedule (with seconds), invoked as the host invokes them. */
export function startTimers(
  registry: FunctionsCoreRegistry,
  coreLog: (level: RpcLogLevel, category: string, message: string, name?: string) => void,
): Cron[] {
  const timers: Cron[] = [];
  for (const registered of registry.functions) {
    const [triggerName, trigger] = triggerOf(registered) ?? [];
    if (!triggerName || trigger?.type?.toLowerCase() !== 'timertrigger') continue;
    const name = registered.metadata.name;
    const schedule = String(trigger.schedule);
    const run = async (job: Cron) => {
      const now = new Date().toISOString();
      // The shape the Functions host sends for a timer trigger (the library camel-cases it).
      const timer = {
        Schedule: { AdjustForDST: false },
        ScheduleStatus: { Last: now, Next: job.nextRun()?.toISOString() ?? '', LastUpdated: now },
        IsPastDue: false,
      };
      const invocationId = randomUUID();
      try {
        await invokeFunction(
          registry,
          registered,
          {
            invocationId,
            inputData: [{ name: triggerName, data: { json: JSON.stringify(timer) } }],
          },
          (level, category, message) => coreLog(level, category, message, name),
        );
      } catch (error) {
        coreLog(
          'error',
          'system',
          `timer failed: ${error instanceof Error ? error.message : String(error)}`,
          name,
        );
      }
    };
    timers.push(new Cron(schedule, { protect: true, catch: true }, run));
  }
  return timers;
}
