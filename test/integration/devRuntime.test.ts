import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expandBraces } from '../../dev/host/appEntry';
import { readRoutePrefix } from '../../dev/localHost';
import {
  BUILT_DEV_DIR,
  freePort,
  PROJECT_ROOT,
  spawnReady,
  spawnTsReady,
  type ManagedProcess,
} from '../../dev/processes';
import { localSettings } from '../../dev/settings';
import { ROUTE_PREFIX } from '../../src/routes';

/** The offline runtime itself: the local Functions host, settings, and npm start's lifecycle. */

const FIXTURE_APP = path.join(__dirname, '..', 'support', 'fixtureApp');

/** The built host (what npm run serve and npm start run), serving an app folder. */
function serveApp(appDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return spawnReady({
    name: 'serve',
    command: process.execPath,
    args: [path.join(BUILT_DEV_DIR, 'serve.js'), '--app', appDir, '--port', '0', ...args],
    env: { PATH: process.env.PATH ?? '', AUTH_DEV_HOST: 'local', ...env },
    readyPattern: /ready on (http:\/\/\S+)/,
    timeoutMs: 60_000,
  });
}

describe('local Functions host, serving a plain v4 app through @azure/functions-core', () => {
  let host: ManagedProcess;
  let base: string;

  beforeAll(async () => {
    host = await serveApp(FIXTURE_APP);
    base = host.ready[1]!;
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("when host.json is read, then its routePrefix is the code's", () => {
    expect(readRoutePrefix(path.join(PROJECT_ROOT, 'host.json'))).toBe(ROUTE_PREFIX);
  });

  it('when package.json main is a glob, then every file it names is loaded and its app.http / app.timer registered', () => {
    expect(expandBraces('dist/src/{index.js,functions/*.js}')).toEqual([
      'dist/src/index.js',
      'dist/src/functions/*.js',
    ]);
    expect(host.output()).toMatch(/serving 4 functions/);
    expect(host.output()).not.toMatch(/test mode/);
  });

  it('when a route matches, then the handler sees method, URL, query, params, headers and body', async () => {
    const response = await fetch(`${base}/api/things/42?x=1&y=two`, {
      method: 'POST',
      headers: { 'x-custom': 'hello', cookie: 'c=1; d=2' },
      body: 'payload',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-echo')).toBe('yes');
    expect(await response.json()).toEqual({
      method: 'POST',
      url: `${base}/api/things/42?x=1&y=two`,
      query: { x: '1', y: 'two' },
      params: { id: '42' },
      header: 'hello',
      cookie: 'c=1; d=2',
      body: 'payload',
    });
  });

  it('when the handler sets cookies, then they become Set-Cookie headers', async () => {
    const response = await fetch(`${base}/api/things/1`);
    expect(response.headers.getSetCookie()).toEqual([
      'a=1; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Lax',
      'b=; Max-Age=0',
    ]);
  });

  it('when the handler returns an HttpResponse, then its status and body are served (route defaults to the name)', async () => {
    const response = await fetch(`${base}/api/response`);
    expect([response.status, await response.text()]).toEqual([202, 'plain']);
  });

  it('when no route matches, then 404; when the route matches but not the method, then 405', async () => {
    expect((await fetch(`${base}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/things/1`)).status).toBe(404); // without the route prefix
    const wrongMethod = await fetch(`${base}/api/things/1`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
  });

  it('when a handler throws, then 500 and the host keeps serving', async () => {
    expect((await fetch(`${base}/api/boom`)).status).toBe(500);
    expect((await fetch(`${base}/api/response`)).status).toBe(202);
    expect(host.output()).toContain('handler bug');
  });

  it('when a request has a Host header no URL can be built from, then 400 and the host keeps serving', async () => {
    const port = Number(new URL(base).port);
    const status = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('GET /api/response HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n');
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });
    expect(status).toMatch(/^HTTP\/1.1 400/);
    expect((await fetch(`${base}/api/response`)).status).toBe(202);
  });

  it('when a timer is registered, then it runs on its schedule with the Timer the library builds', async () => {
    for (let i = 0; i < 100 && !/\[everySecond\] information: tick/.test(host.output()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(host.output()).toMatch(/\[everySecond\] information: tick isPastDue=false/);
  });

  it('when requests are served without --log-requests, then no line per request is logged', async () => {
    await fetch(`${base}/api/response`);
    expect(host.output()).not.toMatch(/GET \/api\/response 202/);
  });

  it('when --log-requests, then one line per request', async () => {
    const logging = await serveApp(FIXTURE_APP, ['--log-requests']);
    try {
      await fetch(`${logging.ready[1]}/api/response`);
      // The line follows the response: wait for it (bounded), not a fixed time.
      for (let i = 0; i < 50 && !/GET \/api\/response 202/.test(logging.output()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(logging.output()).toMatch(/GET \/api\/response 202 \d+ms/);
    } finally {
      await logging.stop();
    }
  });

  it('when the app folder has no built entry, then one line naming it and exit code 2', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'no-entry-'));
    try {
      writeFileSync(
        path.join(empty, 'package.json'),
        '{"main": "dist/src/{index.js,functions/*.js}"}',
      );
      const result = spawnSync(
        process.execPath,
        [path.join(BUILT_DEV_DIR, 'serve.js'), '--app', empty],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', AUTH_DEV_HOST: 'local' } },
      );
      expect(result.status).toBe(2);
      expect(result.stderr.trim()).toMatch(/matches no file .*build the app first/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('settings', () => {
  it('when local.settings.json and the environment both set a value, then the environment wins', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'settings-'));
    const file = path.join(dir, 'local.settings.json');
    writeFileSync(file, JSON.stringify({ Values: { A: 'file', B: 'file', EMPTY: '' } }));
    try {
      const merged = localSettings({ B: 'env', C: 'env' }, file);
      expect(merged).toMatchObject({ A: 'file', B: 'env', C: 'env' });
      expect(merged.EMPTY).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm start', () => {
  function refused(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
  }

  it('when started, then Azurite, the emulator and the host come up; when interrupted, then every port is free again', async () => {
    const port = await freePort();
    const start = await spawnTsReady({
      name: 'start',
      script: 'dev/start.ts',
      // The test run has built dist/ already.
      args: ['--no-build', '--any-ports', '--app', 'dist', '--landing', '/api/demo'],
      env: { ...process.env, PORT: String(port), AUTH_DEV_HOST: 'local' },
      readyPattern: /Press Ctrl-C to stop everything/,
      timeoutMs: 60_000,
    });
    const exited = new Promise((resolve) => start.child.once('exit', resolve));
    let ports: number[];
    try {
      const output = start.output();
      const tablePort = Number(
        /Azurite Table service on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1],
      );
      const emulatorPort = Number(/emulator at https:\/\/localhost:(\d+)\//.exec(output)?.[1]);
      const browserPort = Number(/in the browser at http:\/\/localhost:(\d+)/.exec(output)?.[1]);
      ports = [port, tablePort, emulatorPort, browserPort];
      expect(browserPort).not.toBe(emulatorPort);
      expect(output).toContain(`http://localhost:${port}/api/demo`);
      expect(output).toMatch(/the local host/);
      expect(output).not.toMatch(/test mode/);
      expect(output).not.toMatch(/MISCONFIGURED/);

      const discovery = /emulator at (https:\/\/\S+)\/v2\.0/.exec(output)?.[1];
      expect(discovery).toBeDefined();
      const demo = await fetch(`http://localhost:${port}/api/demo`);
      expect(demo.status).toBe(200);
      // An empty icon in every page: no request for /favicon.ico, which would be a 404.
      expect(await demo.text()).toContain('<link rel="icon" href="data:,">');
      const health = await fetch(`http://localhost:${port}/api/health`);
      expect({ status: health.status, body: await health.json() }).toEqual({
        status: 200,
        body: { status: 'ok' },
      });
      const login = await fetch(`http://localhost:${port}/api/auth/login`, { redirect: 'manual' });
      // The browser goes to the emulator's http front door (no certificate warning).
      expect(login.headers.get('location')).toMatch(
        new RegExp(`^http://localhost:${browserPort}/\\S+/oauth2/v2\\.0/authorize\\?`),
      );
    } finally {
      // Even when an assertion fails: no Azurite or emulator is left running.
      start.child.kill('SIGINT');
      await exited;
    }
    for (const p of ports) {
      expect(await refused(p)).toBe(true);
    }
  });
  it('when started with --instances 3, then three hosts serve behind one load balancer and sign-in starts through it', async () => {
    const port = await freePort();
    const start = await spawnTsReady({
      name: 'start',
      script: 'dev/start.ts',
      args: [
        '--no-build',
        '--any-ports',
        '--app',
        'dist',
        '--landing',
        '/api/demo',
        '--instances',
        '3',
        '--log-requests',
      ],
      env: { ...process.env, PORT: String(port), AUTH_DEV_HOST: 'local' },
      readyPattern: /Press Ctrl-C to stop everything/,
      timeoutMs: 90_000,
    });
    const exited = new Promise((resolve) => start.child.once('exit', resolve));
    try {
      const instancePorts = [
        ...(/Instances: +(.*)/.exec(start.output())?.[1] ?? '').matchAll(/localhost:(\d+)/g),
      ].map((m) => Number(m[1]));
      expect(instancePorts).toHaveLength(3);
      expect(instancePorts).not.toContain(port);
      for (let i = 0; i < 30; i++) {
        expect((await fetch(`http://localhost:${port}/api/health`)).status).toBe(200);
      }
      // With --log-requests each instance logs the requests it served: the balancer spread them.
      for (const name of ['app1', 'app2', 'app3']) {
        expect(start.output()).toMatch(new RegExp(`\\[${name}\\] .*GET /api/health 200`));
      }
      // Every instance answers for the public origin: the flow starts there, not on its own port.
      const login = await fetch(`http://localhost:${port}/api/auth/login`, { redirect: 'manual' });
      expect(login.status).toBe(302);
      const redirectUri = new URL(login.headers.get('location') ?? '').searchParams.get(
        'redirect_uri',
      );
      expect(redirectUri).toBe(`http://localhost:${port}/api/auth/callback`);
    } finally {
      start.child.kill('SIGINT');
      await exited;
    }
    expect(await refused(port)).toBe(true);
  });
});

describe('npm run serve and npm start, when the command or the settings are wrong', () => {
  const run = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, AUTH_DEV_HOST: 'local', ...env },
      timeout: 60_000,
    });

  it.each([
    ['dev/serve.ts', ['--bogus'], {}, /^Unknown option '--bogus'/],
    ['dev/start.ts', ['--port', 'x'], {}, /^Invalid port "x"/],
    [
      'dev/start.ts',
      ['--instances', '0'],
      {},
      /^Invalid --instances "0": expected a number from 1 to 8\./,
    ],
    ['dev/start.ts', [], { AUTH_DEV_HOST: 'nope' }, /^Unknown AUTH_DEV_HOST "nope"/],
    [
      'dev/serve.ts',
      [],
      { AUTH_DEV_HOST: 'func', PATH: '/nonexistent' },
      /Core Tools \("func"\) is not on the PATH/,
    ],
  ])(
    'when %s %j with %j, then one line and exit code 2, before any build',
    (script, args, env, message) => {
      const result = run(script, args, env);
      expect(result.status).toBe(2);
      expect(result.stderr.trim()).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).not.toMatch(/built dist/);
    },
  );

  it('when --help, then usage and exit code 0', () => {
    for (const script of ['dev/start.ts', 'dev/serve.ts']) {
      const result = run(script, ['--help']);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^Usage: npm (start|run serve)/);
      expect(result.stdout).toMatch(/--port <n>/);
    }
  });

  it('when the port is taken, then one line naming it and no stack trace', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const result = run('dev/serve.ts', ['--app', 'dist', '--port', String(port)]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`Port ${port} is already in use`);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    } finally {
      blocker.close();
    }
  });

  it('when the settings are invalid, then the ready banner says MISCONFIGURED and names each problem', async () => {
    const server = await spawnTsReady({
      name: 'serve',
      script: 'dev/serve.ts',
      args: ['--app', 'dist', '--port', '0'],
      // No tenant, client or storage: every required setting is missing.
      env: { PATH: process.env.PATH ?? '', AUTH_DEV_HOST: 'local' },
      readyPattern: /MISCONFIGURED/,
      timeoutMs: 60_000,
    });
    try {
      expect(server.output()).toMatch(/- AUTH_CLIENT_ID is required/);
      expect(server.output()).not.toMatch(/test mode/);
      const origin = /ready on (http:\/\/\S+)/.exec(server.output())?.[1];
      const health = await fetch(`${origin}/api/health`);
      expect({ status: health.status, body: await health.json() }).toEqual({
        status: 503,
        body: { status: 'misconfigured' },
      });
      // What the demo page reads to say "misconfigured" rather than "not signed in".
      const me = await fetch(`${origin}/api/auth/me`, { headers: { Accept: 'application/json' } });
      expect({ status: me.status, error: ((await me.json()) as { error: string }).error }).toEqual({
        status: 500,
        error: 'misconfigured',
      });
    } finally {
      await server.stop();
    }
  });
});
