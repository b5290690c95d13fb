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
import { launchChromium } from '../support/chromium';
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
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      module: 'commonjs',
      target: 'es2022',
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

let appDir: string;
let tarball: string;
let dev: ManagedProcess | undefined;
let browser: Browser | undefined;
let origin: string;
let withoutPeers: { status: number | null; stderr: string };

beforeAll(async () => {
  if (!existsSync(path.join(PROJECT_ROOT, 'lib', 'index.js'))) {
    throw new Error('lib/ is missing: run `npm run build` first (npm test does)');
  }
  appDir = mkdtempSync(path.join(os.tmpdir(), 'fresh-app-'));
  // lib/ is built already (npm test builds first): pack it as is.
  const packed = run(
    'npm',
    ['pack', '--ignore-scripts', '--silent', '--pack-destination', appDir],
    PROJECT_ROOT,
  );
  tarball = path.join(appDir, packed.trim().split('\n').pop() ?? '');

  const functionsVersion = (
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies['@azure/functions'];
  writeFileSync(
    path.join(appDir, 'package.json'),
    JSON.stringify({
      name: 'fresh-functions-app',
      version: '1.0.0',
      main: 'dist/src/{index.js,functions/*.js}',
      scripts: { build: 'tsc', start: 'entra-functions-dev' },
      dependencies: {
        '@azure/functions': functionsVersion,
        'entra-functions-signin': `file:${tarball}`,
      },
    }),
  );
  // From npm's cache when it holds them (the same packages this repository installed).
  run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'],
    appDir,
  );
  // Before the optional peers are there: the command says what to install.
  withoutPeers = spawnSync(
    process.execPath,
    [path.join(appDir, 'node_modules', '.bin', 'entra-functions-dev'), '--no-build'],
    { cwd: appDir, encoding: 'utf8', env: { PATH: process.env.PATH, AUTH_DEV_HOST: 'local' } },
  );
  // The app's dev dependencies (npm i -D typescript @types/node azurite oidc-provider), linked
  // from this repository's node_modules instead of downloaded again.
  for (const name of ['typescript', '@types/node', 'azurite', 'oidc-provider']) {
    mkdirSync(path.dirname(path.join(appDir, 'node_modules', name)), { recursive: true });
    symlinkSync(
      path.join(PROJECT_ROOT, 'node_modules', name),
      path.join(appDir, 'node_modules', name),
      'dir',
    );
  }
  for (const [file, text] of Object.entries(APP_FILES)) {
    mkdirSync(path.dirname(path.join(appDir, file)), { recursive: true });
    writeFileSync(path.join(appDir, file), text);
  }
  run(
    process.execPath,
    [path.join(appDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    appDir,
  );

  const port = await freePort();
  origin = `http://localhost:${port}`;
  dev = await spawnReady({
    name: 'entra-functions-dev',
    command: process.execPath,
    // What `npx entra-functions-dev` runs; built already, and on free ports (tests share the machine).
    args: [
      path.join(appDir, 'node_modules', '.bin', 'entra-functions-dev'),
      '--no-build',
      '--any-ports',
      '--port',
      String(port),
    ],
    cwd: appDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTH_DEV_HOST: 'local' },
    readyPattern: /Press Ctrl-C to stop everything/,
    timeoutMs: 90_000,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
  if (appDir) rmSync(appDir, { recursive: true, force: true });
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
