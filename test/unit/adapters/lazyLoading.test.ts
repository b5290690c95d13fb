import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * What start-up loads: a process set up with a secret and a connection string builds its
 * services without loading msal-node (needed at the first sign-in, not for signed-in requests)
 * or @azure/identity (needed only with a managed identity or a table endpoint).
 */

const ROOT = path.join(__dirname, '..', '..', '..');

function packagesLoadedAtStart(): string[] {
  const script = `
    const { initialise, services } = require('./src/composition');
    initialise({
      AUTH_CLIENT_ID: 'client',
      AUTH_TENANT_ID: 'tenant',
      AUTH_CLIENT_SECRET: 'secret',
      AUTH_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
    });
    services();
    const loaded = new Set();
    for (const file of Object.keys(require.cache)) {
      const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(file);
      if (match) loaded.add(match[1]);
    }
    process.stdout.write(JSON.stringify([...loaded]));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '' },
  });
  return JSON.parse(out.toString()) as string[];
}

describe('start-up', () => {
  it('when the app starts with a client secret and a connection string, then msal-node and @azure/identity are not loaded', () => {
    const loaded = packagesLoadedAtStart();
    expect(loaded).toContain('@azure/data-tables'); // the check sees packages at all
    expect(loaded).not.toContain('@azure/msal-node');
    expect(loaded).not.toContain('@azure/msal-common');
    expect(loaded).not.toContain('@azure/identity');
  });
});
