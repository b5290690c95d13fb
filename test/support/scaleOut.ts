import { TableClient } from '@azure/data-tables';
import { randomBytes, randomInt } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, spawnTsReady, stopAll, type ManagedProcess } from '../../dev/processes';
import { AUTH_TABLE_NAME } from '../../src/adapters/tables/tableLayout';
import { startEmulatorProcess } from './emulatorProcess';
import { flowsOf, startLoadBalancer, type LoadBalancer } from '../../dev/loadBalancer';
import { startStack, type Stack, type StackOptions } from './stack';

/**
 * The scale-out harness: N instances of an app behind a random load balancer, one Azurite, one
 * Entra emulator, and Chromium signing in from several browsers (contexts) with several tabs
 * each, every tab started before any finishes. The same harness measures the project and the
 * naive counter-example (test/support/naiveApp), so their figures can be set side by side.
 */

export type Variant = 'project' | 'naive';

export interface ScaledApp {
  variant: Variant;
  instances: number;
  /** The load balancer's public origin, e.g. http://localhost:41234. */
  appOrigin: string;
  lb: LoadBalancer;
  /** The emulator's http front door, the only part of it the browser visits. */
  emulatorOrigin: string;
  /** The emulator's https origin (the app's server-side calls): the browser never goes there. */
  emulatorHttpsOrigin: string;
  /** The project's stack (Azurite, emulator, hosts); undefined for the naive app. */
  stack?: Stack;
  output(): string;
  stop(): Promise<void>;
}

export interface ScaledAppOptions {
  instances: number;
  /** Extra app settings for the project's instances, given the public origin. */
  settings?: (appOrigin: string) => NonNullable<StackOptions['settings']>;
}

/** N instances of the project (the real served functions) behind a random load balancer. */
export async function startScaledProject(options: ScaledAppOptions): Promise<ScaledApp> {
  const lb = await startLoadBalancer();
  try {
    const stack = await startStack({
      instances: options.instances,
      appPort: lb.port,
      settings: options.settings?.(lb.origin),
    });
    lb.setTargets(stack.instancePorts);
    return {
      variant: 'project',
      instances: options.instances,
      appOrigin: stack.appOrigin,
      lb,
      emulatorOrigin: stack.emulator.browserOrigin,
      emulatorHttpsOrigin: new URL(stack.emulator.authority).origin,
      stack,
      output: () => stack.hostOutput(),
      stop: async () => {
        await lb.close();
        await stack.stop();
      },
    };
  } catch (error) {
    await lb.close();
    throw error;
  }
}

/** N instances of the naive counter-example behind the same kind of load balancer. */
export async function startScaledNaiveApp(options: ScaledAppOptions): Promise<ScaledApp> {
  const lb = await startLoadBalancer();
  const started: ManagedProcess[] = [];
  const emulator = await startEmulatorProcess({
    redirectUris: [`${lb.origin}/api/auth/callback`],
    postLogoutRedirectUris: [`${lb.origin}/`],
  }).catch(async (error: unknown) => {
    await lb.close();
    throw error;
  });
  try {
    const ports = await Promise.all(Array.from({ length: options.instances }, () => freePort()));
    started.push(
      ...(await Promise.all(
        ports.map((port) =>
          spawnTsReady({
            name: `naive:${port}`,
            script: 'test/support/naiveApp/server.ts',
            env: {
              PATH: process.env.PATH,
              HOME: process.env.HOME,
              PORT: String(port),
              NODE_EXTRA_CA_CERTS: emulator.certPath,
              NAIVE_AUTHORITY: emulator.authority,
              NAIVE_CLIENT_ID: emulator.clientId,
              NAIVE_CLIENT_SECRET: emulator.clientSecret,
              NAIVE_REDIRECT_URI: `${lb.origin}/api/auth/callback`,
            },
            readyPattern: /^NAIVE_APP_READY (\d+)$/,
            timeoutMs: 60_000,
          }),
        ),
      )),
    );
    lb.setTargets(ports);
  } catch (error) {
    await stopAll(started);
    await emulator.stop();
    await lb.close();
    throw error;
  }
  return {
    variant: 'naive',
    instances: options.instances,
    appOrigin: lb.origin,
    lb,
    emulatorOrigin: emulator.browserOrigin,
    emulatorHttpsOrigin: new URL(emulator.authority).origin,
    output: () => started.map((p) => p.output()).join('\n'),
    stop: async () => {
      await lb.close();
      await stopAll(started);
      await emulator.stop();
    },
  };
}

export function startScaledApp(variant: Variant, options: ScaledAppOptions): Promise<ScaledApp> {
  return variant === 'project' ? startScaledProject(options) : startScaledNaiveApp(options);
}

/** The emulator's test users (dev/emulator/users.json): what the login page's buttons say. */
export const TEST_USERS = [
  { username: 'adele.vance@contoso.dev', name: 'Adele Vance' },
  { username: 'alex.wilber@contoso.dev', name: 'Alex Wilber' },
  { username: 'megan.bowen@contoso.dev', name: 'Megan Bowen' },
] as const;

export type TestUser = (typeof TEST_USERS)[number];

export const LOGIN_PATH = '/api/auth/login';
export const CALLBACK_PATH = '/api/auth/callback';

/** The app's login URL with a return URL, as a link or the demo page would build it. */
export function loginUrl(appOrigin: string, returnTo: string): string {
  return `${appOrigin}${LOGIN_PATH}?returnTo=${encodeURIComponent(returnTo)}`;
}

/** Waits until the page shows the emulator's account picker with this user on it. */
export async function waitForEmulatorLogin(
  page: Page,
  emulatorOrigin: string,
  user: TestUser,
  timeoutMs = 30_000,
): Promise<void> {
  await page.waitForURL(
    (url) => url.origin === emulatorOrigin && url.pathname.includes('/login/'),
    {
      timeout: timeoutMs,
    },
  );
  await userButton(page, user).waitFor({ timeout: timeoutMs });
}

/** The user's submit button on the emulator's login page. */
export function userButton(page: Page, user: TestUser) {
  return page.getByRole('button', { name: user.name, exact: true });
}

/** Counts the app's login and callback requests a page makes (a redirect loop would repeat them). */
export function countAuthRequests(page: Page): { login: number; callback: number } {
  const counts = { login: 0, callback: 0 };
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname === LOGIN_PATH) counts.login += 1;
    if (pathname === CALLBACK_PATH) counts.callback += 1;
  });
  return counts;
}

export interface TabOutcome {
  context: number;
  tab: number;
  user: string;
  returnTo: string;
  /** The order in which this tab was finished within its browser (0 = first). */
  finishedAs: number;
  ok: boolean;
  /** The reason code shown (`#reason-code`), or the harness's own label. */
  reason?: string;
  /** The page's explanation, when it gives one (`#cause` on the naive app). */
  detail?: string;
}

export interface SignInReport {
  variant: Variant;
  instances: number;
  contexts: number;
  tabs: number;
  /** Marks this run's return URLs (and so its flow records). */
  runId: string;
  attempted: number;
  succeeded: number;
  failedByReason: Record<string, number>;
  outcomes: TabOutcome[];
  /** Requests the load balancer sent to each instance during this run. */
  requestsPerInstance: number[];
  /** Flows whose login and callback both went through the load balancer during this run. */
  flowsSeen: number;
  /** ... of which the callback landed on another instance than the login. */
  flowsCrossingInstances: number;
  durationMs: number;
}

export interface SignInRunOptions {
  contexts: number;
  tabs: number;
  /** Per wait (navigation, element); default 30 s. */
  timeoutMs?: number;
}

/**
 * Opens `contexts` fresh browsers (contexts) with `tabs` tabs each; every tab opens the login
 * URL with its own return URL and reaches the emulator's account picker; only then do they
 * finish: the browsers in parallel, the tabs of each browser one by one in a shuffled order.
 * A tab succeeded when its callback redirected it to its own return URL and that page greets
 * its user, with exactly one login and one callback request on the way (no hidden retry).
 */
export async function runConcurrentSignIns(
  app: ScaledApp,
  browser: Browser,
  options: SignInRunOptions,
): Promise<SignInReport> {
  const timeout = options.timeoutMs ?? 30_000;
  const runId = randomBytes(6).toString('hex');
  const servedBefore = app.lb.served.length;
  const started = performance.now();
  const contexts: BrowserContext[] = [];
  try {
    const tabsByContext = await Promise.all(
      Array.from({ length: options.contexts }, async (_, c) => {
        const context = await browser.newContext();
        contexts.push(context);
        return Promise.all(
          Array.from({ length: options.tabs }, async (_, t) => {
            const page = await context.newPage();
            const user = TEST_USERS[(c + t) % TEST_USERS.length]!;
            const returnTo = `/api/hello?run=${runId}&c=${c}&t=${t}`;
            return { c, t, page, user, returnTo, requests: countAuthRequests(page) };
          }),
        );
      }),
    );

    // Start: every tab of every browser reaches the account picker before any finishes.
    const startFailures = new Map<Page, string>();
    await Promise.all(
      tabsByContext.flat().map(async (tab) => {
        try {
          await tab.page.goto(loginUrl(app.appOrigin, tab.returnTo), { timeout });
          await waitForEmulatorLogin(tab.page, app.emulatorOrigin, tab.user, timeout);
        } catch (error) {
          startFailures.set(
            tab.page,
            await failureReason(tab.page, 'login_page_not_reached', error),
          );
        }
      }),
    );

    // Finish: browsers in parallel, each browser's tabs in a shuffled order.
    const outcomes = (
      await Promise.all(
        tabsByContext.map(async (tabs) => {
          const results: TabOutcome[] = [];
          for (const [finishedAs, tab] of shuffle(tabs).entries()) {
            const base = {
              context: tab.c,
              tab: tab.t,
              user: tab.user.username,
              returnTo: tab.returnTo,
              finishedAs,
            };
            const startFailure = startFailures.get(tab.page);
            if (startFailure) {
              results.push({ ...base, ok: false, reason: startFailure });
              continue;
            }
            results.push({
              ...base,
              ...(await finishSignIn(app, tab.page, tab.user, tab.returnTo, tab.requests, timeout)),
            });
          }
          return results;
        }),
      )
    ).flat();

    const served = app.lb.served.slice(servedBefore);
    const requestsPerInstance = Array.from({ length: app.instances }, () => 0);
    for (const r of served) requestsPerInstance[r.instance]! += 1;
    const flows = [...flowsOf(served).values()].filter(
      (f) => f.login !== undefined && f.callback !== undefined,
    );
    const failedByReason: Record<string, number> = {};
    for (const o of outcomes) {
      if (!o.ok)
        failedByReason[o.reason ?? 'unknown'] = (failedByReason[o.reason ?? 'unknown'] ?? 0) + 1;
    }
    return {
      variant: app.variant,
      instances: app.instances,
      contexts: options.contexts,
      tabs: options.tabs,
      runId,
      attempted: outcomes.length,
      succeeded: outcomes.filter((o) => o.ok).length,
      failedByReason,
      outcomes: outcomes.sort((a, b) => a.context - b.context || a.tab - b.tab),
      requestsPerInstance,
      flowsSeen: flows.length,
      flowsCrossingInstances: flows.filter((f) => f.login !== f.callback).length,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
  }
}

/** Picks the user on the account picker and sees where the browser ends up. */
async function finishSignIn(
  app: ScaledApp,
  page: Page,
  user: TestUser,
  returnTo: string,
  requests: { login: number; callback: number },
  timeout: number,
): Promise<Pick<TabOutcome, 'ok' | 'reason' | 'detail'>> {
  try {
    await userButton(page, user).click({ timeout });
    // Redirects commit no page: the first page on the app's origin is the callback's answer
    // (an error page) or the return URL it redirected to.
    await page.waitForURL((url) => url.origin === app.appOrigin, { timeout });
  } catch (error) {
    return { ok: false, reason: await failureReason(page, 'app_not_reached', error) };
  }
  const landed = new URL(page.url());
  if (landed.pathname === CALLBACK_PATH || landed.href !== `${app.appOrigin}${returnTo}`) {
    return { ok: false, ...(await shownReason(page, `landed_on:${landed.pathname}`)) };
  }
  const greeting = page.locator('#greeting');
  const greets = (await greeting.count()) > 0 && (await greeting.innerText()).includes(user.name);
  if (!greets) return { ok: false, ...(await shownReason(page, 'not_signed_in_on_landing')) };
  if (requests.login !== 1 || requests.callback !== 1) {
    return {
      ok: false,
      reason: 'repeated_sign_in',
      detail: `${requests.login} login and ${requests.callback} callback requests`,
    };
  }
  return { ok: true };
}

/** The reason code and explanation the current page shows, if any (no waiting). */
async function shownReason(
  page: Page,
  fallback: string,
): Promise<Pick<TabOutcome, 'reason' | 'detail'>> {
  const code = page.locator('#reason-code');
  const cause = page.locator('#cause');
  if ((await code.count()) === 0) {
    // A page without a reason code (a proxy's 502, an empty 500): what it says is the clue.
    const text = (
      await page
        .locator('body')
        .innerText()
        .catch(() => '')
    ).trim();
    return text ? { reason: fallback, detail: text.slice(0, 160) } : { reason: fallback };
  }
  const reason = (await code.innerText()).trim();
  return (await cause.count()) > 0
    ? { reason, detail: (await cause.innerText()).trim() }
    : { reason };
}

async function failureReason(page: Page, label: string, error: unknown): Promise<string> {
  const shown = await shownReason(page, '').catch(() => ({ reason: '' }));
  if (shown.reason) return shown.reason;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return `${label} (${message})`;
}

export function shuffle<T>(items: readonly T[]): T[] {
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return shuffled;
}

/** The project's flow records whose return URL contains `marker` (e.g. a run id). */
export async function flowRecords(
  connectionString: string,
  marker: string,
): Promise<{ rowKey: string; returnTo: string; consumedAtMs?: number }[]> {
  const table = TableClient.fromConnectionString(connectionString, AUTH_TABLE_NAME, {
    allowInsecureConnection: true,
  });
  const rows: { rowKey: string; returnTo: string; consumedAtMs?: number }[] = [];
  for await (const row of table.listEntities<{
    kind?: string;
    returnTo?: string;
    consumedAtMs?: number;
  }>()) {
    if (row.kind === 'flow' && row.returnTo?.includes(marker)) {
      rows.push({ rowKey: row.rowKey!, returnTo: row.returnTo, consumedAtMs: row.consumedAtMs });
    }
  }
  return rows;
}

/** One line per variant, for people: attempted, succeeded, failed by reason. */
export function formatReport(report: SignInReport): string {
  const rate = report.attempted === 0 ? 0 : (100 * report.succeeded) / report.attempted;
  const reasons = Object.entries(report.failedByReason)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, count]) => {
      const details = new Map<string, number>();
      for (const o of report.outcomes) {
        if (!o.ok && o.reason === reason && o.detail) {
          details.set(o.detail, (details.get(o.detail) ?? 0) + 1);
        }
      }
      const breakdown = [...details].map(([d, n]) => `${n}: ${d}`).join('; ');
      return `      ${reason}: ${count}${breakdown ? ` (${breakdown})` : ''}`;
    });
  return [
    `${report.variant} — ${plural(report.instances, 'instance')}, ${plural(report.contexts, 'browser')} x ${plural(report.tabs, 'tab')}, ${report.durationMs} ms`,
    `  attempted ${report.attempted}, succeeded ${report.succeeded} (${rate.toFixed(1)}%), failed ${report.attempted - report.succeeded}`,
    ...(reasons.length > 0 ? ['    failed by reason:', ...reasons] : []),
    `  requests per instance: ${report.requestsPerInstance.join(' / ')}; flows whose callback landed on another instance than their login: ${report.flowsCrossingInstances} of ${report.flowsSeen}`,
  ].join('\n');
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
