import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ensureDevCertificate } from '../../dev/emulator/certificate';
import { DEV_CLIENT_ID, DEV_TENANT_ID } from '../../dev/emulator/devRegistration';
import { LOCAL_HOST_READY } from '../../dev/functionsHost';
import { PROJECT_ROOT, spawnReady, type ManagedProcess } from '../../dev/processes';
import { pickEmulatorUser, type BrowserClient } from '../../test/support/browserClient';
import { PEER_DIR } from './processes';

/**
 * The two systems under test, started the same way against the same emulator: this project as
 * `npm run serve` serves it (or its plain-node build), and the Auth.js peer (bench/peer).
 */

export type SystemName = 'project' | 'peer';

export interface Emulator {
  authority: string;
  issuer: string;
  certPath: string;
  clientId: string;
  clientSecret: string;
  process: ManagedProcess;
}

/** What every system needs: the emulator's coordinates and the project's storage. */
export interface Shared {
  emulator: Emulator;
  storageConnectionString: string;
  /** For the peer's JWT sessions (same secret across restarts, like a deployment). */
  peerSecret: string;
}

export const EMULATOR_READY = /^EMULATOR_READY (.*)$/;

/** The emulator with one client registration that lists both systems' redirect URIs. */
export async function startEmulator(redirectUris: string[]): Promise<Emulator> {
  const certDir = path.join(PROJECT_ROOT, '.local', 'emulator-test');
  const { certPath } = await ensureDevCertificate(certDir);
  const clientSecret = randomBytes(32).toString('base64url');
  const emulator = await spawnReady({
    name: 'emulator',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(PROJECT_ROOT, 'dev', 'emulator', 'main.ts')],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      EMULATOR_PORT: '0',
      EMULATOR_BROWSER_PORT: '0',
      EMULATOR_TENANT_ID: DEV_TENANT_ID,
      EMULATOR_CLIENT_ID: DEV_CLIENT_ID,
      EMULATOR_CLIENT_SECRET: clientSecret,
      EMULATOR_REDIRECT_URIS: redirectUris.join(','),
      EMULATOR_POST_LOGOUT_REDIRECT_URIS: 'http://localhost/',
      EMULATOR_CERT_DIR: certDir,
      // One line per request: the IdP calls are counted from it.
      EMULATOR_VERBOSE: '1',
    },
    readyPattern: EMULATOR_READY,
  });
  const ready = JSON.parse(emulator.ready[1] ?? '{}') as { authority: string; issuer: string };
  return {
    authority: ready.authority,
    issuer: ready.issuer,
    certPath,
    clientId: DEV_CLIENT_ID,
    clientSecret,
    process: emulator,
  };
}

export const peerRedirectUri = (port: number) =>
  `http://localhost:${port}/auth/callback/microsoft-entra-id`;
export const projectRedirectUri = (port: number) => `http://localhost:${port}/api/auth/callback`;

/** How a system is launched: the project as served today, its plain-node build, the peer. */
export type Launch = 'serve' | 'plain-node' | 'peer';

export interface LaunchOptions {
  port: number;
  /** The project's AUTH_REDIRECT_URI port (the warm instance's), default `port`. */
  redirectPort?: number;
  storageConnectionString?: string;
  plainServe?: string;
  /** Extra node arguments (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export function launchCommand(
  launch: Launch,
  shared: Shared,
  options: LaunchOptions,
): { args: string[]; env: NodeJS.ProcessEnv; readyPattern: RegExp; cwd: string } {
  const base = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(options.port),
    NODE_EXTRA_CA_CERTS: shared.emulator.certPath,
  };
  const nodeArgs = options.nodeArgs ?? [];
  if (launch === 'peer') {
    return {
      args: [...nodeArgs, path.join(PEER_DIR, 'server.mjs')],
      cwd: PEER_DIR,
      env: {
        ...base,
        AUTH_SECRET: shared.peerSecret,
        PEER_ISSUER: shared.emulator.issuer,
        PEER_CLIENT_ID: shared.emulator.clientId,
        PEER_CLIENT_SECRET: shared.emulator.clientSecret,
      },
      readyPattern: /^PEER_READY (http:\/\/\S+)/,
    };
  }
  // `npm run serve` is `node lib/dev/serve.js --app dist` (npm's own start-up left out, as
  // the peer is started by node directly); plain-node runs dev/serve.ts built with its packages
  // left in node_modules (bench/compare/processes.ts).
  const script = [
    launch === 'serve'
      ? path.join(PROJECT_ROOT, 'lib', 'dev', 'serve.js')
      : (options.plainServe ?? ''),
    '--app',
    path.join(PROJECT_ROOT, 'dist'),
  ];
  return {
    args: [...nodeArgs, ...script],
    cwd: PROJECT_ROOT,
    env: {
      ...base,
      AUTH_DEV_HOST: 'local',
      AUTH_AUTHORITY: shared.emulator.authority,
      AUTH_CLIENT_ID: shared.emulator.clientId,
      AUTH_CLIENT_SECRET: shared.emulator.clientSecret,
      AUTH_REDIRECT_URI: projectRedirectUri(options.redirectPort ?? options.port),
      AUTH_STORAGE_CONNECTION_STRING:
        options.storageConnectionString ?? shared.storageConnectionString,
    },
    readyPattern: LOCAL_HOST_READY,
  };
}

export async function startSystem(
  launch: Launch,
  shared: Shared,
  options: LaunchOptions,
): Promise<ManagedProcess> {
  const command = launchCommand(launch, shared, options);
  return spawnReady({
    name: `${launch}:${options.port}`,
    command: process.execPath,
    timeoutMs: 60_000,
    ...command,
  });
}

/** The URLs and steps of a sign-in, per system. */
export interface Routes {
  /** Starts a flow; resolves to the identity provider's authorize URL. */
  startLogin(client: BrowserClient, origin: string): Promise<string>;
  callbackPath: string;
  me: string;
  staticPage: string;
}

export const ROUTES: Record<SystemName, Routes> = {
  project: {
    async startLogin(client, origin) {
      const login = await client.request(`${origin}/api/auth/login?returnTo=%2Fapi%2Fauth%2Fme`);
      if (login.status !== 302 || !login.location) throw new Error(`login ${login.status}`);
      return login.location;
    },
    callbackPath: '/api/auth/callback',
    me: '/api/auth/me',
    staticPage: '/api/demo',
  },
  peer: {
    // A browser on Auth.js's sign-in page: fetch the CSRF token, POST the provider's sign-in.
    async startLogin(client, origin) {
      const csrf = await client.request(`${origin}/auth/csrf`, {
        headers: { accept: 'application/json' },
      });
      const { csrfToken } = csrf.json<{ csrfToken: string }>();
      const signIn = await client.request(`${origin}/auth/signin/microsoft-entra-id`, {
        form: { csrfToken, callbackUrl: `${origin}/api/me` },
      });
      if (signIn.status !== 302 || !signIn.location) throw new Error(`signin ${signIn.status}`);
      return signIn.location;
    },
    callbackPath: '/auth/callback/microsoft-entra-id',
    me: '/api/me',
    staticPage: '/api/static',
  },
};

export interface SignInTimes {
  loginMs: number;
  callbackMs: number;
  meMs: number;
}

/**
 * One full sign-in by a fresh browser: the app's login, the emulator's pages (not timed), the
 * app's callback and one /me, which must say who is signed in.
 */
export async function signIn(
  client: BrowserClient,
  system: SystemName,
  origin: string,
  user = 'adele.vance@contoso.dev',
): Promise<SignInTimes> {
  const routes = ROUTES[system];
  let started = performance.now();
  const authorizeUrl = await routes.startLogin(client, origin);
  const loginMs = performance.now() - started;

  const { final: loginPage } = await client.follow(authorizeUrl);
  const picked = await pickEmulatorUser(client, loginPage, user);
  const isCallback = (url: URL) => url.pathname === routes.callbackPath;
  const { final } = picked.location
    ? await client.follow(picked.location, {}, { stopAt: isCallback })
    : { final: picked };
  if (!final.location || !isCallback(new URL(final.location))) {
    throw new Error(`${system}: no redirect to the callback (${final.status} at ${final.url})`);
  }

  started = performance.now();
  const callback = await client.request(final.location);
  const callbackMs = performance.now() - started;
  if (callback.status !== 302) {
    throw new Error(
      `${system}: callback answered ${callback.status}: ${callback.body.slice(0, 300)}`,
    );
  }

  started = performance.now();
  const me = await client.request(`${origin}${routes.me}`, {
    headers: { accept: 'application/json' },
  });
  const meMs = performance.now() - started;
  assertSignedIn(system, me.status, me.body);
  return { loginMs, callbackMs, meMs };
}

export function assertSignedIn(system: SystemName, status: number, body: string): void {
  const user = status === 200 ? (JSON.parse(body) as { user?: { name?: string } }).user : undefined;
  if (!user?.name) throw new Error(`${system}: /me answered ${status} ${body.slice(0, 200)}`);
}
