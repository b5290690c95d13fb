import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import {
  flowRecords,
  formatReport,
  runConcurrentSignIns,
  startScaledNaiveApp,
  startScaledProject,
  type SignInReport,
} from '../support/scaleOut';

/**
 * Scaled out, side by side: three instances behind a load balancer that picks an instance at
 * random for every request, several browsers signing in at once with several tabs each. The
 * project must not lose one sign-in; the naive counter-example (state in process memory)
 * loses them, which shows the harness can see the failure the project fixes.
 */

jest.setTimeout(180_000);

const INSTANCES = 3;
const CONTEXTS = 3;
const TABS = 3;

/** Starts the app, runs the scenario in a fresh Chromium, stops everything again. */
async function run(start: typeof startScaledProject): Promise<SignInReport & { flows?: Flows }> {
  const app = await start({ instances: INSTANCES });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const report = await runConcurrentSignIns(app, browser, { contexts: CONTEXTS, tabs: TABS });
    console.log(formatReport(report));
    const flows = app.stack
      ? await flowRecords(app.stack.azurite.connectionString, report.runId)
      : undefined;
    return { ...report, flows };
  } finally {
    await browser?.close();
    await app.stop();
  }
}

type Flows = Awaited<ReturnType<typeof flowRecords>>;

describe(`scale-out: ${INSTANCES} instances, ${CONTEXTS} browsers x ${TABS} tabs, random load balancing`, () => {
  it('when every request may land on any instance, then every sign-in of the project succeeds and every flow record is consumed', async () => {
    const report = await run(startScaledProject);

    expect(report.attempted).toBe(CONTEXTS * TABS);
    expect(report.outcomes.filter((o) => !o.ok)).toEqual([]);
    expect(report.succeeded).toBe(CONTEXTS * TABS);

    // The load balancer really spread the work: every instance served requests, and callbacks
    // landed on other instances than their logins. (With random choice over 3 instances, the
    // chance that either check fails by luck is below 1 in 10,000.)
    expect(report.requestsPerInstance).toHaveLength(INSTANCES);
    expect(report.requestsPerInstance.every((n) => n > 0)).toBe(true);
    expect(report.flowsSeen).toBe(CONTEXTS * TABS);
    expect(report.flowsCrossingInstances).toBeGreaterThan(0);

    expect(report.flows).toHaveLength(CONTEXTS * TABS);
    expect(report.flows?.filter((f) => typeof f.consumedAtMs !== 'number')).toEqual([]);
  });

  it('when the naive app that keeps sign-in state in process memory runs the same way, then it loses sign-ins with "State mismatch"', async () => {
    const report = await run(startScaledNaiveApp);

    expect(report.attempted).toBe(CONTEXTS * TABS);
    // Its one pending-sign-in slot per browser lets at most one tab of each browser succeed,
    // whatever the load balancer does; the random instances take most of the rest.
    expect(report.attempted - report.succeeded).toBeGreaterThanOrEqual(CONTEXTS * (TABS - 1));
    expect(report.failedByReason.state_mismatch).toBeGreaterThanOrEqual(1);
  });
});
