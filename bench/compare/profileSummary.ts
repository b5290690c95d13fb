import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../dev/processes';

/**
 * Where a CPU profile's time goes (`node --cpu-prof` output), by the module each sampled
 * function belongs to. Code inside dist/main.js is attributed through esbuild's
 * `// node_modules/<pkg>/...` and `// src/...` comments that open each bundled module.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface ProfileSummary {
  samples: number;
  byGroup: [string, number][];
  /** Each sample charged to the nearest caller that is not Node itself: who asked for the work. */
  byCaller: [string, number][];
  byModule: [string, number][];
  topFunctions: [string, number][];
}

const BUNDLE = path.join(PROJECT_ROOT, 'dist', 'main.js');

/** The groups the issue names, from a module name. */
export function groupOf(module: string): string {
  if (module === '(garbage collector)') return 'garbage collection';
  if (/^node:internal\/(modules|vm)|^tsx$|^esbuild$/.test(module))
    return 'module loading (start-up, lazy imports; tsx hooks)';
  if (module === '(program)') return 'native, unattributed (program)';
  if (
    /^node:(_http|http|net|tls|_tls|stream|internal\/(streams|http|net|stream_base|js_stream)|dns)/.test(
      module,
    )
  )
    return 'socket and HTTP (node internals)';
  if (module.startsWith('node:(event loop')) return 'node: event loop, no JavaScript caller';
  if (module.startsWith('node:')) return 'other node internals';
  if (
    /^(@azure\/(data-tables|core-|abort-controller|logger)|@typespec\/ts-http-runtime|tslib)/.test(
      module,
    )
  )
    return 'Table Storage client stack';
  if (/^@azure\/msal-/.test(module)) return 'MSAL';
  if (/^(@azure\/functions|dev\/|cookie$|croner)/.test(module))
    return 'local host and @azure/functions';
  if (module === 'jose') return 'jose (ID token check)';
  if (module.startsWith('src/')) return "the project's own code";
  return module;
}

export function summarizeProfile(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
  const bundleModules = bundleModuleStarts();
  const byModule = new Map<string, number>();
  const byGroup = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byCaller = new Map<string, number>();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  let samples = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits || node.callFrame.functionName === '(idle)') continue;
    // Native frames (writev, console, microtasks) count for the first JavaScript caller.
    let owner = node;
    while (!owner.callFrame.url && !owner.callFrame.functionName.startsWith('(')) {
      const parent = nodes.get(parents.get(owner.id) ?? -1);
      if (!parent || parent.callFrame.functionName === '(root)') break;
      owner = parent;
    }
    const module = moduleOf(owner.callFrame, bundleModules);
    samples += hits;
    add(byModule, module, hits);
    add(byGroup, groupOf(module), hits);
    add(byFunction, `${node.callFrame.functionName || '(anonymous)'} [${module}]`, hits);
    let caller: ProfileNode | undefined = owner;
    let callerModule = module;
    while (caller && isNodeItself(callerModule)) {
      caller = nodes.get(parents.get(caller.id) ?? -1);
      if (!caller || caller.callFrame.functionName === '(root)') {
        callerModule = 'node:(event loop: sockets, timers; no JavaScript caller)';
        break;
      }
      callerModule = moduleOf(caller.callFrame, bundleModules);
    }
    add(byCaller, groupOf(callerModule), hits);
  }
  const share = (m: Map<string, number>, top: number): [string, number][] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, v / samples]);
  return {
    samples,
    byGroup: share(byGroup, 20),
    byCaller: share(byCaller, 12),
    byModule: share(byModule, 15),
    topFunctions: share(byFunction, 15),
  };
}

const isNodeItself = (module: string) =>
  module.startsWith('node:') || module === '(native)' || module === '(program)';

function moduleOf(
  frame: ProfileNode['callFrame'],
  bundle: { line: number; module: string }[],
): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  if (file === BUNDLE) {
    let low = 0;
    let high = bundle.length - 1;
    let found = 'dist/main.js (bundle glue)';
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (bundle[mid]!.line <= frame.lineNumber) {
        found = bundle[mid]!.module;
        low = mid + 1;
      } else high = mid - 1;
    }
    return found;
  }
  return packageOf(path.relative(PROJECT_ROOT, file));
}

/** `node_modules/@scope/name/...` -> `@scope/name`; `src/x/y.ts` stays a path. */
function packageOf(relative: string): string {
  const parts = relative.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return relative;
  const name = parts[at + 1] ?? '';
  return name.startsWith('@') ? `${name}/${parts[at + 2] ?? ''}` : name;
}

function bundleModuleStarts(): { line: number; module: string }[] {
  const starts: { line: number; module: string }[] = [];
  readFileSync(BUNDLE, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      const match = /^\/\/ ((?:node_modules|src)\/\S+)$/.exec(text);
      if (match) starts.push({ line, module: packageOf(match[1]!) });
    });
  return starts;
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

export function formatProfile(title: string, summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const table = (rows: [string, number][]) =>
    rows.map(([k, v]) => `  ${pct(v).padStart(6)}  ${k}`).join('\n');
  return [
    `${title} (${summary.samples} samples, idle excluded)`,
    ' by group:',
    table(summary.byGroup),
    ' by caller (Node internals charged to the package or file that called them):',
    table(summary.byCaller),
    ' by module:',
    table(summary.byModule),
    ' top functions (self time):',
    table(summary.topFunctions),
  ].join('\n');
}
