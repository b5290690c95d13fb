import { spawnSync } from 'node:child_process';
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
 * Builds first (the instances serve dist/main.js; `--no-build` skips it) and needs Chromium
 * (/usr/bin/chromium or CHROME_PATH). Progress goes to stderr, so `--json` stays clean.
 */

const USAGE = `Usage: npm run scale-out [-- options]

The scale-out scenario: N instances behind a load balancer that picks an instance at random per
request, C browsers signing in at once with T tabs each, for this project and a naive
in-memory variant. Exit code 1 when the project loses a sign-in.

Options:
  --instances <n>   function host instances (default 3)
  --contexts <n>    browsers signing in at once (default 10)
  --tabs <n>        tabs per browser (default 3)
  --variant <v>     both, project or naive (default both)
  --json            the reports as JSON on stdout
  --no-build        use dist/ as it is
  -h, --help        this text`;

export interface ScaleOutOptions {
  instances: number;
  contexts: number;
  tabs: number;
  variants: Variant[];
  /** One line per step, for a run that otherwise stays silent for a minute or more. */
  progress?: (line: string) => void;
}

export async function scaleOut(options: ScaleOutOptions): Promise<SignInReport[]> {
  const progress = options.progress ?? (() => undefined);
  const reports: SignInReport[] = [];
  for (const variant of options.variants) {
    const started = performance.now();
    const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    progress(`[${variant}] starting ${options.instances} instances, Azurite and the emulator...`);
    const app = await startScaledApp(variant, { instances: options.instances });
    try {
      const browser = await launchChromium();
      try {
        progress(
          `[${variant}] ready after ${elapsed()}; ${options.contexts} browsers x ${options.tabs} tabs signing in...`,
        );
        const report = await runConcurrentSignIns(app, browser, {
          contexts: options.contexts,
          tabs: options.tabs,
        });
        progress(
          `[${variant}] ${report.succeeded} of ${report.attempted} sign-ins succeeded (${elapsed()} in all)`,
        );
        reports.push(report);
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
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        instances: { type: 'string' },
        contexts: { type: 'string' },
        tabs: { type: 'string' },
        variant: { type: 'string' },
        json: { type: 'boolean' },
        'no-build': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message} (see --help)`, { cause: error });
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const variant = values.variant ?? 'both';
  if (!['both', 'project', 'naive'].includes(variant)) {
    throw new Error('--variant must be both, project or naive');
  }
  // Every option is checked before the build, so a typo costs no build.
  const options: ScaleOutOptions = {
    instances: positiveInt('instances', values.instances, 3),
    contexts: positiveInt('contexts', values.contexts, 10),
    tabs: positiveInt('tabs', values.tabs, 3),
    variants: variant === 'both' ? ['project', 'naive'] : [variant as Variant],
    progress: (line) => console.error(line),
  };
  if (!values['no-build']) {
    const built = spawnSync('npm', ['run', '--silent', 'build'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      shell: process.platform === 'win32',
    });
    if (built.status !== 0) throw new Error('The build failed (see above).');
  }
  const reports = await scaleOut(options);
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
