import { parseArgs } from 'node:util';
import { launchChromium } from '../test/support/chromium';
import {
  formatReport,
  runConcurrentSignIns,
  startScaledApp,
  type SignInReport,
  type Variant,
} from '../test/support/scaleOut';

/**
 * The scale-out scenario at a chosen size, for the project and for the naive counter-example
 * side by side: N instances behind a load balancer that picks an instance at random for every
 * request, C browsers signing in at once with T tabs each.
 *
 *   node --import tsx bench/scaleOut.ts --instances 3 --contexts 10 --tabs 3 [--variant both]
 *
 * Needs `npm run build` first (the instances serve dist/main.js) and Chromium
 * (/usr/bin/chromium or CHROME_PATH).
 */

export interface ScaleOutOptions {
  instances: number;
  contexts: number;
  tabs: number;
  variants: Variant[];
}

export async function scaleOut(options: ScaleOutOptions): Promise<SignInReport[]> {
  const reports: SignInReport[] = [];
  for (const variant of options.variants) {
    const app = await startScaledApp(variant, { instances: options.instances });
    try {
      const browser = await launchChromium();
      try {
        reports.push(
          await runConcurrentSignIns(app, browser, {
            contexts: options.contexts,
            tabs: options.tabs,
          }),
        );
      } finally {
        await browser.close();
      }
    } finally {
      await app.stop();
    }
  }
  return reports;
}

export function printScaleOut(
  reports: readonly SignInReport[],
  title = 'Scale-out: sign-ins through a load balancer that picks an instance at random per request',
): void {
  console.log(`\n${title}`);
  for (const report of reports) console.log(`\n${formatReport(report)}`);
  const rows = reports.map((r) => ({
    variant: r.variant,
    attempted: r.attempted,
    succeeded: r.succeeded,
    failed: r.attempted - r.succeeded,
    'failure rate': `${((100 * (r.attempted - r.succeeded)) / Math.max(1, r.attempted)).toFixed(1)}%`,
  }));
  console.log('');
  console.table(rows);
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string' },
      contexts: { type: 'string' },
      tabs: { type: 'string' },
      variant: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const variant = values.variant ?? 'both';
  if (!['both', 'project', 'naive'].includes(variant)) {
    throw new Error('--variant must be both, project or naive');
  }
  const reports = await scaleOut({
    instances: positiveInt('instances', values.instances, 3),
    contexts: positiveInt('contexts', values.contexts, 10),
    tabs: positiveInt('tabs', values.tabs, 3),
    variants: variant === 'both' ? ['project', 'naive'] : [variant as Variant],
  });
  if (values.json) console.log(JSON.stringify(reports, null, 2));
  else printScaleOut(reports);
  // The project must not lose a single sign-in; the naive app is expected to.
  const project = reports.find((r) => r.variant === 'project');
  if (project && project.succeeded !== project.attempted) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
