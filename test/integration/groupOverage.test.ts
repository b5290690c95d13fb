import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bundledUsers from '../../dev/emulator/users.json';
import type { TestUser } from '../../dev/emulator/users';
import { MEMBERS_GROUP_ID } from '../../example/src/permissions';
import { authTable } from '../support/authTable';
import { emulatorControl } from '../support/emulatorControl';
import { browserPool, me, signedInWithGraphConsent, USERS } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';

/**
 * Group overage through the real parts: the emulator's Nestor Wilke is in 250 groups, so his ID
 * token carries Entra's overage marker and no groups; /api/members requires one of them, which
 * the app reads from the emulator's Graph at the first call. A user in 5,000 groups (the required
 * one last) takes 6 pages of 999.
 */

const TRANSITIVE_GROUPS = '/v1.0/me/transitiveMemberOf/microsoft.graph.group';
const IDP_TIMEOUT_MS = 4000;
const SLACK_MS = 5000;

const MANY_GROUPS = 'many.groups@contoso.dev';

let stack: Stack;
let usersDir: string;
let control: ReturnType<typeof emulatorControl>;
const browsers = browserPool();

beforeAll(async () => {
  usersDir = mkdtempSync(path.join(os.tmpdir(), 'emulator-users-'));
  const usersFile = path.join(usersDir, 'users.json');
  const many: TestUser = {
    oid: randomUUID(),
    preferred_username: MANY_GROUPS,
    name: 'Many Groups',
    email: MANY_GROUPS,
    roles: [],
    groups: [...Array.from({ length: 4999 }, () => randomUUID()), MEMBERS_GROUP_ID],
  };
  writeFileSync(usersFile, JSON.stringify([...(bundledUsers as TestUser[]), many]));
  stack = await startStack({
    instances: 1,
    emulatorUsersFile: usersFile,
    settings: { AUTH_IDP_TIMEOUT_MS: String(IDP_TIMEOUT_MS) },
  });
  control = emulatorControl(stack.emulator.browserOrigin);
}, 120_000);
afterEach(async () => {
  await control.setGraphOutage('none');
});
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
  rmSync(usersDir, { recursive: true, force: true });
});

/** Signed in with Graph's User.Read consented (what the group lookup's token needs). */
const signedIn = (user: string) => signedInWithGraphConsent(browsers, stack.appOrigin, user);

const json = { headers: { accept: 'application/json' } };

/** The groups rows (g.<session id>) in the app's table. */
async function groupsRows(): Promise<number> {
  let rows = 0;
  const table = authTable(stack.appStorageConnectionString);
  const filter = "RowKey ge 'g.' and RowKey lt 'g/'";
  for await (const _ of table.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) {
    rows++;
  }
  return rows;
}
const graphLookups = async () => (await control.graphCalls())[TRANSITIVE_GROUPS] ?? 0;

describe('group overage', () => {
  it('when a user in 250 groups signs in, then the session holds no groups but the overage marker', async () => {
    const client = await signedIn(USERS.nestor);
    const answer = (await me(client, stack.appOrigin)).json() as {
      user: { groups: string[]; groupsOverage?: boolean };
    };
    expect(answer.user.groups).toEqual([]);
    expect(answer.user.groupsOverage).toBe(true);
  });

  it('when he opens a function requiring one of his groups, then Graph is read once and he gets in', async () => {
    const client = await signedIn(USERS.nestor);
    const before = await graphLookups();
    const first = await client.request(`${stack.appOrigin}/api/members`, json);
    expect(first.status).toBe(200);
    expect(first.json()).toMatchObject({ member: true, user: 'Nestor Wilke', overage: true });
    expect((await graphLookups()) - before).toBe(1);

    // Kept with the session: the next call asks Graph nothing.
    const page = await client.request(`${stack.appOrigin}/api/members`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Members area: welcome, Nestor Wilke');
    expect((await graphLookups()) - before).toBe(1);

    // Signing out deletes the groups kept with the session.
    const rowsBefore = await groupsRows();
    const logout = await client.request(`${stack.appOrigin}/api/auth/logout`, {
      method: 'POST',
      headers: { origin: stack.appOrigin, 'sec-fetch-site': 'same-origin' },
    });
    expect(logout.status).toBe(302);
    expect(await groupsRows()).toBe(rowsBefore - 1);
  });

  it('when a user in 5,000 groups opens it, then the 6 pages of Graph are read and the 5,000 groups kept in one row', async () => {
    const client = await signedIn(MANY_GROUPS);
    const before = await graphLookups();
    const answer = await client.request(`${stack.appOrigin}/api/members`, json);
    expect(answer.status).toBe(200);
    expect((await graphLookups()) - before).toBe(6);
    const table = authTable(stack.appStorageConnectionString);
    const counts: number[] = [];
    const filter = "RowKey ge 'g.' and RowKey lt 'g/'";
    for await (const row of table.listEntities({ queryOptions: { filter } })) {
      counts.push(row.count as number);
    }
    expect(counts).toContain(5000);
  });

  it('when a user without overage is not in the group, then forbidden without asking Graph', async () => {
    const client = await signedIn(USERS.adele);
    const before = await graphLookups();
    const answer = await client.request(`${stack.appOrigin}/api/members`, json);
    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject({ error: 'forbidden' });
    expect(await graphLookups()).toBe(before);
  });

  it('when Graph is down, then groups_unavailable 503 with Retry-After, never forbidden; back up, he gets in', async () => {
    const client = await signedIn(USERS.nestor);
    await control.setGraphOutage('unavailable');
    const down = await client.request(`${stack.appOrigin}/api/members`, json);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('7');
    expect(down.json()).toMatchObject({
      error: 'groups_unavailable',
      message: expect.stringContaining('Microsoft Graph answered 503'),
    });
    const page = await client.request(`${stack.appOrigin}/api/members`);
    expect(page.status).toBe(503);
    expect(page.body).toContain('data-reason="groups_unavailable"');

    await control.setGraphOutage('none');
    expect((await client.request(`${stack.appOrigin}/api/members`, json)).status).toBe(200);
  });

  it('when Graph refuses (403), then groups_unavailable naming the permission to grant', async () => {
    const client = await signedIn(USERS.nestor);
    await control.setGraphOutage('forbidden');
    const refused = await client.request(`${stack.appOrigin}/api/members`, json);
    expect(refused.status).toBe(502);
    expect(refused.headers['retry-after']).toBeUndefined();
    expect(refused.json()).toMatchObject({
      error: 'groups_unavailable',
      message: expect.stringContaining(
        'needs the delegated permission User.Read of Microsoft Graph',
      ),
    });
  });

  it('when Graph does not answer, then groups_unavailable within the IdP timeout (+ slack)', async () => {
    const client = await signedIn(USERS.nestor);
    await control.setGraphOutage('hang');
    const started = Date.now();
    const hung = await client.request(`${stack.appOrigin}/api/members`, json);
    const elapsedMs = Date.now() - started;
    expect(hung.status).toBe(503);
    expect(hung.json()).toMatchObject({
      error: 'groups_unavailable',
      message: expect.stringContaining(`did not answer within ${IDP_TIMEOUT_MS} ms`),
    });
    expect(elapsedMs).toBeLessThan(IDP_TIMEOUT_MS + SLACK_MS);
  });
});
