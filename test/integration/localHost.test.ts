import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expandBraces } from '../../dev/host/appEntry';
import { readRoutePrefix } from '../../dev/localHost';
import { BUILT_DEV_DIR, PROJECT_ROOT, spawnReady, type ManagedProcess } from '../../dev/processes';
import { ROUTE_PREFIX } from '../../src/routes';

/**
 * The local host (lib/dev/serve.js, what npm run serve and npm start run) serving a plain v4 app
 * (test/support/fixtureApp, quickstart layout) that knows nothing of this project: registrations
 * reach the host through @azure/functions-core, and @azure/functions converts every request.
 */

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
    expect(host.output()).toMatch(/serving 5 functions/);
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

  it('when a body comes chunked, comes empty or is over 1 MiB, then it is read, absent, or refused with 413', async () => {
    const url = `${base}/api/things/7`;
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of ['pay', 'lo', 'ad']) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    const streamed = await fetch(url, {
      method: 'POST',
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(((await streamed.json()) as { body: string }).body).toBe('payload');
    const empty = await fetch(url, { method: 'POST' });
    expect(((await empty.json()) as { body: string }).body).toBe('');
    const tooLarge = await fetch(url, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(tooLarge.status).toBe(413);
    expect((await fetch(`${base}/api/response`)).status).toBe(202);
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

  it('when the app registers hooks, then appStart runs once loaded and postInvocation may change the result', async () => {
    expect(host.output()).toContain('appStart hook ran (hookData object)');
    const response = await fetch(`${base}/api/hooked`);
    expect(await response.text()).toBe('the function, then the postInvocation hook');
  });

  it('when no route matches, then 404; when the route matches but not the method, then 405', async () => {
    expect((await fetch(`${base}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${base}/things/1`)).status).toBe(404); // without the route prefix
    const wrongMethod = await fetch(`${base}/api/things/1`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
  });

  it("when / is no function, then a page like Azure's lists the GET functions without parameters", async () => {
    const home = await fetch(`${base}/`);
    const html = await home.text();
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('<a href="/api/response">');
    expect(html).not.toContain('things/'); // a route with a parameter is not a link
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);
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
