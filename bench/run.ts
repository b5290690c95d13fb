import { faultProblems, measureFaults, printFaults } from './faults';
import { measureLatency, printLatency } from './latency';
import { helpWanted, printHelp, runComparisonParts, wants } from './parts';
import { printScaleOut, scaleOut } from './scaleOut';
import { measureTokens, printTokens } from './tokens';

/**
 * `npm run bench`: the scale-out scenario (3 instances, 10 browsers x 3 tabs) for the project
 * and the naive counter-example, the naive app alone on one instance with one tab per browser
 * (the setup where it appears to work), then the latency of login / callback / me, then the
 * fault table (storage and identity provider faults through the fault-injection proxies), then
 * this project beside Auth.js and the scale model.
 * Needs `npm run build` first and Chromium. Prints figures; exits non-zero when the project
 * loses a sign-in, or a fault leaves half-written records, a wait past its bound, or no recovery.
 * `--only <part>` runs parts alone, `--help` lists them (bench/parts.ts).
 */

async function main(): Promise<void> {
  if (helpWanted) return printHelp();
  if (wants('scale-out')) await runScaleOut();
  if (wants('latency')) printLatency(await measureLatency(50));
  if (wants('tokens')) printTokens(await measureTokens(50));
  if (wants('faults')) await runFaults();
  // Issue 13: this project beside Auth.js, the scale model, profiles (bench/parts.ts).
  await runComparisonParts();
}

async function runScaleOut(): Promise<void> {
  const sideBySide = await scaleOut({
    instances: 3,
    contexts: 10,
    tabs: 3,
    variants: ['project', 'naive'],
  });
  const baseline = await scaleOut({ instances: 1, contexts: 10, tabs: 1, variants: ['naive'] });
  printScaleOut(sideBySide);
  printScaleOut(
    baseline,
    'Control: the naive app where it seems to work (one instance, one tab per browser)',
  );

  const project = sideBySide.find((r) => r.variant === 'project');
  if (project && project.succeeded !== project.attempted) {
    console.error(`\nThe project lost ${project.attempted - project.succeeded} sign-ins.`);
    process.exitCode = 1;
  }
}

async function runFaults(): Promise<void> {
  const faults = await measureFaults();
  printFaults(faults);
  for (const problem of faultProblems(faults)) {
    console.error(`\nFault table: ${problem}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
