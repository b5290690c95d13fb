import os from 'node:os';
import type { Figures } from './measure';

/** The side-by-side table: both columns, the ratio per repetition, targets and verdicts. */

export interface Repetition {
  project: Figures & { coldServeMs: number; coldPlainMs: number };
  peer: Figures & { coldServeMs: number; coldPlainMs: number };
}

export interface Counts {
  /** Storage round trips and IdP calls, per sign-in (login + callback) and per /me. */
  project: CountRow;
  peer: CountRow;
}
export interface CountRow {
  storageSignIn: number;
  storageMe: number;
  idpSignIn: number;
  idpMe: number;
  /** The IdP calls of one sign-in by endpoint, e.g. `POST /token ×1`. */
  idpPaths: string;
  /** A fresh process's first sign-in (discovery and keys fetched then). */
  idpFirstSignIn: number | undefined;
  storageConfigured: boolean;
}

type Key = Exclude<keyof Repetition['project'], 'cookieNames' | 'cpu'>;
interface Row {
  figure: string;
  key: Key;
  unit: string;
  digits: number;
  /** The ratio project / peer must be at most (≤) or at least (≥) this. */
  target: { op: '≤' | '≥'; ratio: number; absolute?: number };
}

export const ROWS: Row[] = [
  {
    figure: 'app time per full sign-in (login + callback + me), median',
    key: 'signInMs',
    unit: 'ms',
    digits: 1,
    target: { op: '≤', ratio: 0.7 },
  },
  {
    figure: 'app CPU per sign-in',
    key: 'cpuMsPerSignIn',
    unit: 'ms',
    digits: 2,
    target: { op: '≤', ratio: 0.45 },
  },
  {
    figure: 'sign-ins/s at concurrency 20',
    key: 'signInsPerSecond',
    unit: '/s',
    digits: 1,
    target: { op: '≥', ratio: 1.6 },
  },
  {
    figure: '/me requests/s at concurrency 50',
    key: 'meRequestsPerSecond',
    unit: '/s',
    digits: 0,
    target: { op: '≥', ratio: 2.5 },
  },
  {
    figure: '/me p99 at concurrency 50',
    key: 'meP99Ms',
    unit: 'ms',
    digits: 1,
    target: { op: '≤', ratio: 0.6 },
  },
  {
    figure: 'cold start to a signed-in /me, as `npm run serve` serves it',
    key: 'coldServeMs',
    unit: 'ms',
    digits: 0,
    target: { op: '≤', ratio: 0.8 },
  },
  {
    figure: 'the same with the bundle loaded by plain `node`',
    key: 'coldPlainMs',
    unit: 'ms',
    digits: 0,
    target: { op: '≤', ratio: 0.7 },
  },
  {
    figure: 'trivial request floor (a static page), median',
    key: 'staticMs',
    unit: 'ms',
    digits: 2,
    target: { op: '≤', ratio: 1.0 },
  },
  {
    figure: 'Cookie header after sign-in',
    key: 'cookieBytes',
    unit: 'B',
    digits: 0,
    target: { op: '≤', ratio: 0.17, absolute: 125 },
  },
];

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (value: number, digits: number) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function spread(values: number[], digits: number, unit: string): string {
  const sep = unit === '/s' ? '' : ' ';
  return `${fmt(median(values), digits)}${sep}${unit} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
}

/**
 * A figure's cells, both columns and the ratio (median and range of the repetitions' ratios),
 * as `| figure | ours | theirs | ratio |`, and what the verdict needs.
 */
function compared(reps: Repetition[], row: Omit<Row, 'target'>) {
  const ours = reps.map((r) => r.project[row.key]);
  const theirs = reps.map((r) => r.peer[row.key]);
  const ratios = reps.map((r) => r.project[row.key] / r.peer[row.key]);
  const ratio = median(ratios);
  const cells = `| ${row.figure} | ${spread(ours, row.digits, row.unit)} | ${spread(theirs, row.digits, row.unit)} | ${fmt(ratio, 2)}× (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}) |`;
  return { ours, ratio, cells };
}

export interface Verdict {
  figure: string;
  ratio: number;
  met: boolean;
}

/** Figures printed beside the targets, with no target of their own: what explains them. */
const BESIDE: Omit<Row, 'target'>[] = [
  {
    figure: '/me requests/s at concurrency 50, a session per client',
    key: 'meManySessionsRequestsPerSecond',
    unit: '/s',
    digits: 0,
  },
  {
    figure: '/me p99 at concurrency 50, a session per client',
    key: 'meManySessionsP99Ms',
    unit: 'ms',
    digits: 1,
  },
  { figure: 'app CPU per static page', key: 'staticCpuMs', unit: 'ms', digits: 3 },
];

const CPU_UNITS = [
  ['signIn', 'per sign-in at concurrency 20'],
  ['me', 'per /me, one session, c=50'],
  ['meManySessions', 'per /me, a session per client, c=50'],
] as const;

/** Markdown, so the README's section is the bench's own output. */
export function formatReport(
  reps: Repetition[],
  counts: Counts | undefined,
  conversionUs?: number,
): { text: string; verdicts: Verdict[] } {
  const lines: string[] = [];
  const verdicts: Verdict[] = [];
  lines.push(
    `${reps.length} repetitions, interleaved; each cell: median (range); ratio = this project / the peer within each repetition.`,
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.`,
    '',
    '| figure | this project | peer (Auth.js) | ratio | target | met |',
    '|---|---|---|---|---|---|',
  );
  for (const row of ROWS) {
    const { ours, ratio, cells } = compared(reps, row);
    const { op, absolute } = row.target;
    let met = op === '≤' ? ratio <= row.target.ratio : ratio >= row.target.ratio;
    if (absolute !== undefined) met &&= median(ours) <= absolute;
    verdicts.push({ figure: row.figure, ratio, met });
    const target = `${op} ${row.target.ratio}×${absolute !== undefined ? ` (${op} ${absolute} ${row.unit})` : ''}`;
    lines.push(`${cells} ${target} | ${met ? 'yes' : '**no**'} |`);
  }
  lines.push(
    '',
    'Beside the targets (no target of their own):',
    '',
    '| figure | this project | peer (Auth.js) | ratio |',
    '|---|---|---|---|',
  );
  for (const row of BESIDE) lines.push(compared(reps, row).cells);
  lines.push(
    '',
    'Where the two cores went, ms of CPU (median of the repetitions): the app, Azurite (this project only), the emulator, and the bench process that plays the browsers and clients:',
    '',
    '| | this project: app / Azurite / emulator / clients | peer: app / emulator / clients |',
    '|---|---|---|',
  );
  for (const [unit, label] of CPU_UNITS) {
    const m = (system: 'project' | 'peer', k: keyof Repetition['project']['cpu']['me']) =>
      fmt(median(reps.map((r) => r[system].cpu[unit][k])), 2);
    lines.push(
      `| ${label} | ${m('project', 'app')} / ${m('project', 'storage')} / ${m('project', 'idp')} / ${m('project', 'clients')} | ${m('peer', 'app')} / ${m('peer', 'idp')} / ${m('peer', 'clients')} |`,
    );
  }
  if (conversionUs !== undefined) {
    lines.push(
      '',
      `The \`@azure/functions\` conversion of one GET and a small page answer (\`HttpRequest\`, \`HttpResponse\`, its body read back as \`toRpcHttp\` does), which the Azure worker runs per invocation too: ${fmt(conversionUs, 0)} µs of CPU, measured in the bench process.`,
    );
  }
  const last = reps[reps.length - 1];
  if (last) {
    lines.push(
      '',
      `Cookies sent to \`/me\` after sign-in: this project ${last.project.cookieNames}; the peer ${last.peer.cookieNames}.`,
    );
  }
  if (counts) {
    lines.push(
      '',
      '| counted on the wire | this project | peer (Auth.js) | ratio | target | met |',
      '|---|---|---|---|---|---|',
    );
    const c = (row: CountRow, storage: boolean) =>
      storage
        ? row.storageConfigured
          ? `${fmt(row.storageSignIn, 1)} / ${fmt(row.storageMe, 1)}`
          : '0 / 0 (no storage)'
        : `${fmt(row.idpSignIn, 1)} / ${fmt(row.idpMe, 1)}${row.idpFirstSignIn === undefined ? '' : ` (a process's first sign-in: ${row.idpFirstSignIn})`}`;
    const keep = counts.project.storageSignIn === 3 && counts.project.storageMe === 1;
    verdicts.push({ figure: 'storage round trips: sign-in / me', ratio: Number.NaN, met: keep });
    lines.push(
      `| storage round trips: sign-in / \`/me\` (counted) | ${c(counts.project, true)} | ${c(counts.peer, true)} | – | keep 3 / 1 | ${keep ? 'yes' : '**no**'} |`,
      `| identity-provider calls: sign-in / \`/me\` (counted) | ${c(counts.project, false)} | ${c(counts.peer, false)} | – | – | – |`,
      '',
      `Identity-provider calls per sign-in: this project ${counts.project.idpPaths || 'none'}; the peer ${counts.peer.idpPaths || 'none'}.`,
    );
  }
  return { text: lines.join('\n'), verdicts };
}
