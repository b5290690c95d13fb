import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort, PROJECT_ROOT, spawnReady, type ManagedProcess } from '../../dev/processes';
import { BrowserClient } from '../support/browserClient';
import { launchChromium } from '../support/chromium';
import { signIn, USERS } from '../support/signInSteps';
import { TEST_USERS, userButton, waitForEmulatorLogin } from '../support/scaleOut';

/**
 * The package as a team with an existing Functions app meets it: a standard v4 TypeScript app in
 * the quickstart's layout (src/functions/*.ts, each calling app.http; package.json main a glob;
 * tsc into dist/) installs the packed tarball from file, adds the README's lines, builds with tsc,
 * and is served by the package's own command (entra-functions-dev) with Azurite and the emulator.
 * A user signs in through it in Chromium and calls one of the app's own protected functions.
 */

jest.setTimeout(240_000);

const [ADELE] = TEST_USERS;
const run = (command: string, args: string[], cwd: string) => {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
};

/** A ts block of the README that starts with `// <file>` (list items indent theirs). */
function readmeBlock(file: string): string {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  for (const match of readme.matchAll(/^( *)```ts\n([\s\S]*?)^\1```/gm)) {
    const indent = match[1] ?? '';
    const code = (match[2] ?? '').replace(new RegExp(`^${indent}`, 'gm'), '');
    if (code.startsWith(`// ${file}\n`)) return code;
  }
  throw new Error(`README has no ts block starting with "// ${file}"`);
}

// The app's files: the quickstart's host.json, tsconfig and first function, and the README's lines.
const APP_FILES: Record<string, string> = {
  'host.json': JSON.stringify({
    version: '2.0',
    extensionBundle: { id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' },
  }),
  // The quickstart's, plus the README's `types` line (azurite's @types need TypeScript 5.8).
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      module: 'commonjs',
      target: 'es6',
      outDir: 'dist',
      rootDir: '.',
      sourceMap: true,
      strict: false,
      types: ['node'],
    },
  }),
  'src/functions/httpTrigger.ts': `import { app, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';

export async function httpTrigger(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  context.log(\`Http function processed request for url "\${request.url}"\`);
  const name = request.query.get('name') || (await request.text()) || 'world';
  return { body: \`Hello, \${name}!\` };
}

app.http('httpTrigger', { methods: ['GET', 'POST'], authLevel: 'anonymous', handler: httpTrigger });
`,
  // Existing apps often have a health function of their own: its name must not clash.
  'src/functions/health.ts': `import { app } from '@azure/functions';

app.http('health', { route: 'status', methods: ['GET'], authLevel: 'anonymous', handler: async () => ({ jsonBody: { app: 'up' } }) });
`,
  // What the README's "Add sign-in to an existing Functions app" says to add, as written there.
  'src/index.ts': readmeBlock('src/index.ts'),
  'src/functions/whoAmI.ts': readmeBlock('src/functions/whoAmI.ts'),
};

let tarball: string;
let appDir: string;
let dev: ManagedProcess | undefined;
let browser: Browser | undefined;
let origin: string;
let withoutPeers: { status: number | null; stderr: string };
let tscVersion: string;
const appDirs: string[] = [];
const servers: ManagedProcess[] = [];

/**
 * An app folder with `packageJson` that installs the tarball (from file), @azure/functions and
 * `devDependencies` from the registry.
 */
function installApp(
  packageJson: Record<string, unknown>,
  devDependencies: Record<string, string> = {},
): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fresh-app-'));
  appDirs.push(dir);
  const functionsVersion = (
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies['@azure/functions'];
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      version: '1.0.0',
      ...packageJson,
      dependencies: {
        '@azure/functions': functionsVersion,
        'entra-functions-signin': `file:${tarball}`,
      },
      devDependencies,
    }),
  );
  // From npm's cache when it holds them.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], dir);
  return dir;
}

/** Dev dependencies linked from this repository's node_modules (no second download), and files. */
function addToApp(dir: string, devDependencies: string[], files: Record<string, string>): void {
  for (const name of devDependencies) {
    mkdirSync(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(
      path.join(PROJECT_ROOT, 'node_modules', name),
      path.join(dir, 'node_modules', name),
      'dir',
    );
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

/** What `npx entra-functions-dev` runs; built already, and on free ports (tests share the machine). */
async function serve(dir: string): Promise<{ dev: ManagedProcess; origin: string }> {
  const port = await freePort();
  const server = await spawnReady({
    name: 'entra-functions-dev',
    command: process.execPath,
    args: [
      path.join(dir, 'node_modules', '.bin', 'entra-functions-dev'),
      '--no-build',
      '--any-ports',
      '--port',
      String(port),
    ],
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTH_DEV_HOST: 'local' },
    readyPattern: /Press Ctrl-C to stop everything/,
    timeoutMs: 90_000,
  });
  servers.push(server);
  return { dev: server, origin: `http://localhost:${port}` };
}

beforeAll(async () => {
  if (!existsSync(path.join(PROJECT_ROOT, 'lib', 'index.js'))) {
    throw new Error('lib/ is missing: run `npm run build` first (npm test does)');
  }
  const packDir = mkdtempSync(path.join(os.tmpdir(), 'fresh-app-pack-'));
  appDirs.push(packDir);
  // lib/ is built already (npm test builds first): pack it as is.
  const packed = run(
    'npm',
    ['pack', '--ignore-scripts', '--silent', '--pack-destination', packDir],
    PROJECT_ROOT,
  );
  tarball = path.join(packDir, packed.trim().split('\n').pop() ?? '');

  // The quickstart's TypeScript (^4: 4.9), not this repository's: the package's declarations
  // must compile with what `func init` gives.
  appDir = installApp(
    {
      name: 'fresh-functions-app',
      main: 'dist/src/{index.js,functions/*.js}',
      scripts: { build: 'tsc', start: 'entra-functions-dev' },
    },
    { typescript: '^4.0.0', '@types/node': '^20.x' },
  );
  // Before the optional peers are there: the command says what to install.
  withoutPeers = spawnSync(
    process.execPath,
    [path.join(appDir, 'node_modules', '.bin', 'entra-functions-dev'), '--no-build'],
    { cwd: appDir, encoding: 'utf8', env: { PATH: process.env.PATH, AUTH_DEV_HOST: 'local' } },
  );
  // npm i -D azurite oidc-provider
  addToApp(appDir, ['azurite', 'oidc-provider'], APP_FILES);
  const tsc = path.join(appDir, 'node_modules', 'typescript', 'bin', 'tsc');
  tscVersion = run(process.execPath, [tsc, '--version'], appDir).trim();
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], appDir);
  ({ dev, origin } = await serve(appDir));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.allSettled(servers.map((server) => server.stop()));
  for (const dir of appDirs) rmSync(dir, { recursive: true, force: true });
});

describe('a fresh v4 app with the packed package', () => {
  it('when packed, then the tarball holds the compiled library, its declarations and the dev command, nothing else', () => {
    const entries = run('tar', ['tzf', tarball], appDir).trim().split('\n');
    const outside = entries.filter(
      (e) => !/^package\/(lib\/.+|README\.md|LICENSE|package\.json)$/.test(e),
    );
    expect(outside).toEqual([]);
    expect(entries).toEqual(
      expect.arrayContaining([
        'package/lib/index.js',
        'package/lib/index.d.ts',
        'package/lib/dev/start.js',
        'package/LICENSE',
      ]),
    );
    expect(
      entries.filter((e) => /\.test\.|\/test\/|\/infra\/|\.ts$/.test(e) && !e.endsWith('.d.ts')),
    ).toEqual([]);
  });

  it("when built with the quickstart's TypeScript 4, then the package's declarations compile (beforeAll's tsc)", () => {
    expect(tscVersion).toMatch(/^Version 4\.9\./);
  });

  it('when azurite and oidc-provider are not installed, then entra-functions-dev says how to install them, in one line', () => {
    expect(withoutPeers.status).toBe(2);
    expect(withoutPeers.stderr.trim()).toBe(
      'The dev host needs azurite and oidc-provider: npm install --save-dev azurite oidc-provider',
    );
  });

  it("when served by entra-functions-dev, then the app's own functions and the sign-in endpoints are there", async () => {
    expect(dev?.output()).toMatch(/serving 9 functions/);
    expect(dev?.output()).not.toMatch(/test mode|MISCONFIGURED/);
    const hello = await fetch(`${origin}/api/httpTrigger?name=Functions`);
    expect([hello.status, await hello.text()]).toEqual([200, 'Hello, Functions!']);
    const own = await fetch(`${origin}/api/status`);
    expect([own.status, await own.json()]).toEqual([200, { app: 'up' }]);
    const anonymous = await fetch(`${origin}/api/whoAmI`, { redirect: 'manual' });
    expect([anonymous.status, anonymous.headers.get('location')]).toEqual([
      302,
      '/api/auth/login?returnTo=%2Fapi%2FwhoAmI',
    ]);
  });

  it("when a user signs in through it in Chromium, then the app's protected function answers for that user", async () => {
    const emulatorOrigin = /in the browser at (http:\/\/localhost:\d+)/.exec(
      dev?.output() ?? '',
    )?.[1];
    expect(emulatorOrigin).toBeDefined();
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/api/whoAmI`);
      await waitForEmulatorLogin(page, emulatorOrigin!, ADELE);
      await userButton(page, ADELE).click();
      await page.waitForURL(`${origin}/api/whoAmI`);
      const body = JSON.parse((await page.locator('body').innerText()).trim()) as { name: string };
      expect(body.name).toBe(ADELE.name);
    } finally {
      await context.close();
    }
  });
});

describe('a fresh ES-module app (package.json "type": "module", plain JavaScript)', () => {
  it("when it adds the README's lines as they are, then the sign-in works through it and its protected function answers for the user", async () => {
    const dir = installApp({
      name: 'fresh-esm-app',
      type: 'module',
      main: 'src/{index.js,functions/*.js}',
    });
    // The README's TypeScript lines are plain JavaScript too: import statements, no types.
    addToApp(dir, ['azurite', 'oidc-provider'], {
      'host.json': APP_FILES['host.json']!,
      'src/index.js': readmeBlock('src/index.ts'),
      'src/functions/whoAmI.js': readmeBlock('src/functions/whoAmI.ts'),
    });
    const esm = await serve(dir);
    expect(esm.dev.output()).toMatch(/serving 7 functions/);
    const client = new BrowserClient();
    try {
      const done = await signIn(client, esm.origin, { returnTo: '/api/whoAmI', user: USERS.megan });
      expect([done.status, done.location]).toEqual([302, `${esm.origin}/api/whoAmI`]);
      const who = await client.request(`${esm.origin}/api/whoAmI`, {
        headers: { accept: 'application/json' },
      });
      expect([who.status, who.json()]).toEqual([200, { name: 'Megan Bowen' }]);
    } finally {
      await client.close();
      // Its Azurite and emulator go now, not with the other app's at the end.
      await esm.dev.stop();
    }
  });
});
