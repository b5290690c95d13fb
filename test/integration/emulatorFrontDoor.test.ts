import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { FrontDoorResponse } from '../../dev/emulator/frontDoor';
import { closeServers } from '../../dev/loopback';
import { PROJECT_ROOT } from '../../dev/processes';
import { BrowserClient, pickEmulatorUser } from '../support/browserClient';
import {
  MEGAN,
  emulator,
  ca,
  frontDoor,
  serverRequest,
  msalApp,
  authorizeUrl,
  newBrowser,
  useEmulator,
} from '../support/emulatorClients';

/** The local Entra ID emulator's safety: forwarded headers, refusal in Azure, and its front door's rewriting. */

useEmulator();

describe('local Entra ID emulator', () => {
  test('when a client sends its own X-Forwarded-Proto and X-Forwarded-Host, then neither listener believes them', async () => {
    // Arrange: headers that would make the provider think it is http://evil.example.
    const spoofed = {
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'evil.example',
      forwarded: 'proto=http;host=evil.example',
    };
    const discoveryPath = '/v2.0/.well-known/openid-configuration';
    const viaFrontDoor = await authorizeUrl(msalApp());
    const viaHttps = viaFrontDoor.replace(
      emulator.browserOrigin,
      new URL(emulator.authority).origin,
    );
    const browser = newBrowser();
    const trusting = new BrowserClient({ ca });

    /** Authorize with the spoofed headers, then pick a user: where does the provider resume? */
    const startAndPick = async (client: BrowserClient, authorize: string) => {
      const started = await client.request(authorize, { headers: spoofed });
      const loginPage = await client.request(started.location ?? '');
      return { started, picked: await pickEmulatorUser(client, loginPage, MEGAN) };
    };

    // Act
    const discoveries = [
      (await serverRequest(`${emulator.authority}${discoveryPath}`, { headers: spoofed })).json,
      (await browser.request(`${frontDoor()}${discoveryPath}`, { headers: spoofed })).json(),
    ];
    const frontDoorFlow = await startAndPick(browser, viaFrontDoor);
    const httpsFlow = await startAndPick(trusting, viaHttps);
    await Promise.all([browser.close(), trusting.close()]);

    // Assert
    for (const discovery of discoveries) {
      expect(discovery).toMatchObject({
        issuer: emulator.issuer,
        token_endpoint: `${emulator.authority}/oauth2/v2.0/token`,
        authorization_endpoint: `${frontDoor()}/oauth2/v2.0/authorize`,
      });
    }
    for (const [flow, base] of [
      [frontDoorFlow, frontDoor()],
      [httpsFlow, emulator.authority],
    ] as const) {
      expect(flow.started.status).toBe(303);
      // Secure as on https: the spoofed proto=http was not believed.
      expect(String(flow.started.headers['set-cookie'])).toMatch(/; secure/i);
      expect(flow.picked.status).toBe(303);
      expect(flow.picked.location).toMatch(new RegExp(`^${base}/oauth2/v2\\.0/authorize/`));
    }
    expect(browser.requested.every((url) => url.origin === emulator.browserOrigin)).toBe(true);
  });

  test('when WEBSITE_INSTANCE_ID is set, then the emulator refuses to start', async () => {
    // Arrange: a certificate directory that must not come into being.
    const certDir = path.join(os.tmpdir(), `emulator-refused-${process.pid}-${Date.now()}`);
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'dev/emulator/main.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        WEBSITE_INSTANCE_ID: 'abc123',
        EMULATOR_PORT: '0',
        EMULATOR_CERT_DIR: certDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

    // Act: 'close' (unlike 'exit') waits for stdout and stderr to be drained.
    const exitCode = await new Promise<number | null>((resolve) => child.once('close', resolve));

    // Assert
    expect(exitCode).not.toBe(0);
    expect(output).toMatch(/development only/i);
    expect(output).toContain('WEBSITE_INSTANCE_ID');
    expect(output).not.toContain('EMULATOR_READY');
    expect(fs.existsSync(certDir)).toBe(false);
  });
});

describe("the emulator's front door responses", () => {
  const HTTPS = 'https://localhost:7443';
  const FRONT_DOOR = 'http://localhost:7444';
  const page = [
    `<form method="post" action="${HTTPS}/t/login/1">`,
    `<input type="hidden" name="iss" value="${HTTPS}/t/v2.0">`,
    `<a href='${HTTPS}/t/oauth2/v2.0/logout'>out</a> <a href="${HTTPS}0/other">other port</a>`,
    `<a href="http://localhost:7071/api/demo">app</a> text ${HTTPS}/t</form>`,
  ].join('\n');
  const routes: Record<string, (res: ServerResponse) => void> = {
    // As koa answers: progressive headers, Content-Length, the body in end().
    '/koa': (res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(page));
      res.end(page);
    },
    // As the login page is sent: writeHead with headers, body in chunks split inside a URL.
    '/chunks': (res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.write(page.slice(0, 40));
      res.write(Buffer.from(page.slice(40)));
      res.end();
    },
    '/redirect': (res) => {
      res.writeHead(303, {
        location: `${HTTPS}/t/oauth2/v2.0/authorize/1?next=${encodeURIComponent(HTTPS)}`,
        'set-cookie': 'a=1; path=/t/; secure; httponly',
      });
      res.end();
    },
    '/app-redirect': (res) => {
      res.statusCode = 303;
      res.setHeader('Location', `http://localhost:7071/api/auth/callback?iss=${HTTPS}`);
      res.end();
    },
    '/json': (res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token_endpoint: `${HTTPS}/t/oauth2/v2.0/token` }));
    },
  };
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer({ ServerResponse: FrontDoorResponse }, (req, res) => {
      res.rewriteUrls(HTTPS, FRONT_DOOR);
      (routes[req.url ?? ''] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => closeServers([server]));

  const get = async (path: string) => {
    const response = await request(`${base}${path}`);
    return {
      status: response.statusCode,
      headers: response.headers,
      body: await response.body.text(),
    };
  };

  test.each(['/koa', '/chunks'])(
    'when an HTML page links to the https origin (%s), then its links and form actions point at the front door, other text stays',
    async (path) => {
      // Act
      const { status, headers, body } = await get(path);

      // Assert
      expect(status).toBe(200);
      expect(body).toBe(
        [
          `<form method="post" action="${FRONT_DOOR}/t/login/1">`,
          `<input type="hidden" name="iss" value="${HTTPS}/t/v2.0">`,
          `<a href='${FRONT_DOOR}/t/oauth2/v2.0/logout'>out</a> <a href="${HTTPS}0/other">other port</a>`,
          `<a href="http://localhost:7071/api/demo">app</a> text ${HTTPS}/t</form>`,
        ].join('\n'),
      );
      if (headers['content-length'] !== undefined) {
        expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body));
      }
    },
  );

  test('when a redirect points at the https origin, then Location points at the front door and Set-Cookie is unchanged', async () => {
    // Act
    const redirect = await get('/redirect');
    const toApp = await get('/app-redirect');
    const json = await get('/json');

    // Assert
    expect(redirect.headers.location).toBe(
      `${FRONT_DOOR}/t/oauth2/v2.0/authorize/1?next=${encodeURIComponent(HTTPS)}`,
    );
    expect(String(redirect.headers['set-cookie'])).toBe('a=1; path=/t/; secure; httponly');
    expect(toApp.headers.location).toBe(`http://localhost:7071/api/auth/callback?iss=${HTTPS}`);
    expect(JSON.parse(json.body)).toEqual({ token_endpoint: `${HTTPS}/t/oauth2/v2.0/token` });
  });
});
