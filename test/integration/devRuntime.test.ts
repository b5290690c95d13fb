import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, PROJECT_ROOT, spawnTsReady } from '../../dev/processes';
import { localSettings } from '../../dev/settings';

/** The offline runtime's scripts: settings, npm start's lifecycle, npm run serve (the host itself: localHost.test.ts). */

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

  it.each([
    ['an app that does not sign users in', ['--app', 'test/support/fixtureApp']],
    [
      "npm start's instances (--no-settings-banner: its summary says it once)",
      ['--app', 'dist', '--no-settings-banner'],
    ],
  ])(
    'when %s is served without sign-in settings, then no MISCONFIGURED banner of its own',
    async (_, args) => {
      const server = await spawnTsReady({
        name: 'serve',
        script: 'dev/serve.ts',
        args: [...args, '--port', '0'],
        env: { PATH: process.env.PATH ?? '', AUTH_DEV_HOST: 'local' },
        readyPattern: /ready on (http:\/\/\S+)/,
        timeoutMs: 60_000,
      });
      try {
        // An answer comes after anything printed with the ready line.
        const origin = /ready on (http:\/\/\S+)/.exec(server.output())?.[1];
        await fetch(`${origin}/`);
        expect(server.output()).not.toMatch(/MISCONFIGURED/);
      } finally {
        await server.stop();
      }
    },
  );

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
