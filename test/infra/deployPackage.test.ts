import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exampleRoutes } from '../../example/src/routes';
import { DEFAULT_ROUTES } from '../../src/routes';
import { ignores, packageFiles, parseIgnoreFile, remoteBuildProblem } from './support/azdPackage';
import { ROOT } from './support/bicepCli';
import { readZip, writeZip } from './support/zip';

// dist/ is what `npm run build` makes (npm test builds first); other test files load it too, so it is
// read here, never rebuilt.
const DIST = path.join(ROOT, 'dist');

/**
 * Loads the bundle the way the Azure worker does: @azure/functions-core is the worker's own module,
 * given to the app at run time (here a stand-in that records the registrations). Anything else the
 * bundle requires must be inside it: there is no node_modules anywhere up from `dir`.
 */
function loadInWorker(
  dir: string,
  /** Script run once the bundle is loaded (in the same process). */
  afterLoad = '',
): {
  status: number | null;
  stdout: string;
  stderr: string;
  registered: unknown[];
} {
  const worker = mkdtempSync(path.join(os.tmpdir(), 'worker-'));
  try {
    const record = path.join(worker, 'registered.json');
    const preload = path.join(worker, 'functions-core.js');
    writeFileSync(
      preload,
      `const Module = require('node:module');
const registered = [];
const core = {
  setProgrammingModel() {},
  getProgrammingModel() {},
  registerHook() { return { dispose() {} }; },
  log() {},
  registerFunction(metadata) { registered.push(metadata); return { dispose() {} }; },
};
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === '@azure/functions-core' ? core : load.call(this, request, ...rest);
};
process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(registered)));
`,
    );
    const run = spawnSync(
      process.execPath,
      ['--require', preload, '-e', `require('./main.js');${afterLoad}`],
      {
        cwd: dir,
        encoding: 'utf8',
        // No settings at all: the app must still load and register (it answers `misconfigured`).
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    const registered = existsSync(record)
      ? (JSON.parse(readFileSync(record, 'utf8')) as unknown[])
      : [];
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, registered };
  } finally {
    rmSync(worker, { recursive: true, force: true });
  }
}

function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules'))) found.push(path.join(d, 'node_modules'));
    if (path.dirname(d) === d) return found;
  }
}

describe('the azd package (azure.yaml deploys dist/)', () => {
  let unpacked: string;
  let zipped: string[];
  beforeAll(() => {
    if (!existsSync(path.join(DIST, 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const files = packageFiles(DIST);
    const zip = writeZip(
      files.map((name) => ({ name, data: readFileSync(path.join(DIST, name)) })),
    );
    unpacked = mkdtempSync(path.join(os.tmpdir(), 'package-'));
    const entries = readZip(zip);
    zipped = entries.map((e) => e.name);
    for (const { name, data } of entries) {
      mkdirSync(path.dirname(path.join(unpacked, name)), { recursive: true });
      writeFileSync(path.join(unpacked, name), data);
    }
  });
  afterAll(() => rmSync(unpacked, { recursive: true, force: true }));

  it('is accepted by azd with remoteBuild false: the root .funcignore keeps node_modules', () => {
    expect(remoteBuildProblem(ROOT)).toBeUndefined();
  });

  it('holds the bundle, host.json and package.json, nothing else', () => {
    // azure-identity.js: @azure/identity, apart, required by the bundle only for a managed identity.
    expect(zipped).toEqual(['azure-identity.js', 'host.json', 'main.js', 'package.json']);
  });

  it('has a package.json whose main is the bundle, without dependencies', () => {
    const pkg = JSON.parse(readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;

    expect(pkg.main).toBe('main.js');
    expect(pkg).not.toHaveProperty('dependencies');
    expect(pkg).not.toHaveProperty('scripts');
  });

  it('has the host.json the project runs with locally', () => {
    expect(readFileSync(path.join(unpacked, 'host.json'), 'utf8')).toBe(
      readFileSync(path.join(ROOT, 'host.json'), 'utf8'),
    );
  });

  it('loads with no node_modules, and registers every function of the code with the worker', () => {
    expect(nodeModulesAbove(unpacked)).toEqual([]);

    const { status, stderr, registered } = loadInWorker(unpacked);

    expect({ status, stderr: status === 0 ? '' : stderr }).toEqual({ status: 0, stderr: '' });
    const names = (registered as { name: string }[]).map((m) => m.name).sort();
    // registerSignIn's endpoints and timer, and the example's own functions.
    expect(names).toEqual(
      ['authLogin', 'authCallback', 'authMe', 'authLogout', 'authHealth', 'authCleanup']
        .concat(Object.keys(exampleRoutes))
        .sort(),
    );
    const routes = JSON.stringify(registered);
    for (const route of [...Object.values(DEFAULT_ROUTES), ...Object.values(exampleRoutes)]) {
      expect(routes).toContain(`"route":"${route}"`);
    }
  });

  it('loads @azure/identity from its own file on first use, with no node_modules: a managed identity gets its token', () => {
    // The bundle names the second file where the library imports @azure/identity.
    expect(readFileSync(path.join(unpacked, 'main.js'), 'utf8')).toContain(
      'import("./azure-identity.js")',
    );
    // An App Service identity endpoint on loopback answers; the file's ManagedIdentityCredential
    // (its own msal-node copy inside) asks it, as the bundle's table client would in Azure.
    const { status, stdout, stderr } = loadInWorker(
      unpacked,
      `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  console.log('identity endpoint: ' + url.searchParams.get('resource') + ' ' + url.searchParams.get('client_id') + ' header ' + req.headers['x-identity-header']);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ access_token: 'mi-token', expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource: url.searchParams.get('resource'), token_type: 'Bearer' }));
});
server.listen(0, '127.0.0.1', async () => {
  process.env.IDENTITY_ENDPOINT = 'http://127.0.0.1:' + server.address().port + '/msi/token';
  process.env.IDENTITY_HEADER = 'secret-header';
  try {
    const { ManagedIdentityCredential } = await import('./azure-identity.js');
    const token = await new ManagedIdentityCredential({ clientId: 'mi-client' }).getToken('https://storage.azure.com/.default');
    console.log('token ' + token.token);
  } finally {
    server.close();
  }
});`,
    );

    expect({ status, stderr: status === 0 ? '' : stderr }).toEqual({ status: 0, stderr: '' });
    expect(stdout).toContain(
      'identity endpoint: https://storage.azure.com mi-client header secret-header',
    );
    expect(stdout).toContain('token mi-token');
  });

  it('when the bundle needs a module it does not contain, then loading it there fails', () => {
    const broken = mkdtempSync(path.join(os.tmpdir(), 'package-broken-'));
    try {
      writeFileSync(path.join(broken, 'main.js'), "require('@azure/data-tables');");

      expect(loadInWorker(broken).status).not.toBe(0);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe('the ignore-file rules azd applies', () => {
  it('when .funcignore excludes node_modules, then azd would refuse remoteBuild false', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'funcignore-'));
    try {
      writeFileSync(path.join(dir, '.funcignore'), '*.map\nnode_modules/\n');

      expect(remoteBuildProblem(dir)).toMatch(/excludes node_modules/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('match like gitignore: basename anywhere, anchored paths, directories, negation', () => {
    const rules = parseIgnoreFile('# comment\n*.map\n/src\nlogs/\n!keep.map\n');

    expect(ignores(rules, 'main.js.map', false)).toBe(true);
    expect(ignores(rules, 'a/b/c.map', false)).toBe(true);
    expect(ignores(rules, 'keep.map', false)).toBe(false);
    expect(ignores(rules, 'src', true)).toBe(true);
    expect(ignores(rules, 'a/src', true)).toBe(false);
    expect(ignores(rules, 'logs', true)).toBe(true);
    expect(ignores(rules, 'logs', false)).toBe(false);
    expect(ignores(rules, 'main.js', false)).toBe(false);
  });
});
