import { TableClient, type TableEntityResult } from '@azure/data-tables';
import { TOKEN_CACHE_PREFIX } from '../../src/adapters/tables/TableTokenCacheStore';
import { readSessionCookie, SESSION_COOKIE_NAME } from '../../src/auth/cookies';
import { sessionKeyOf } from '../../src/auth/sessions';
import { openTokenCache, sealTokenCache, type TokenCacheContents } from '../../src/auth/tokenCache';
import type { BrowserClient } from './browserClient';

/** The raw table and, for a test that holds the browser, its session's token cache in clear. */

export async function sessionOf(client: BrowserClient, appOrigin: string) {
  const header = await client.jar.getCookieString(appOrigin);
  const value = header
    .split('; ')
    .find((c) => c.startsWith(`${SESSION_COOKIE_NAME}=`))
    ?.slice(SESSION_COOKIE_NAME.length + 1);
  const cookie = value ? readSessionCookie({ [SESSION_COOKIE_NAME]: value }) : undefined;
  if (!cookie) throw new Error('the browser holds no session cookie');
  return { ...cookie, key: sessionKeyOf(cookie.partition, cookie.secret) };
}

export interface TokenRow {
  raw: TableEntityResult<Record<string, unknown>>;
  contents: TokenCacheContents | undefined;
}

/** The session's token cache row, raw and opened with the secret only the browser has. */
export async function tokenRowOf(
  table: TableClient,
  client: BrowserClient,
  appOrigin: string,
): Promise<TokenRow | undefined> {
  const { key, secret } = await sessionOf(client, appOrigin);
  try {
    const raw = await table.getEntity<Record<string, unknown>>(
      key.partition,
      TOKEN_CACHE_PREFIX + key.id,
    );
    const sealed = raw.sealed;
    return {
      raw,
      contents: sealed instanceof Uint8Array ? openTokenCache(sealed, secret, key) : undefined,
    };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** Writes the session's token cache as `change` makes it, sealed as the app seals it. */
export async function rewriteTokenCache(
  table: TableClient,
  client: BrowserClient,
  appOrigin: string,
  change: (contents: TokenCacheContents) => TokenCacheContents,
): Promise<void> {
  const { key, secret } = await sessionOf(client, appOrigin);
  const row = await tokenRowOf(table, client, appOrigin);
  if (!row?.contents) throw new Error('the session has no token cache to rewrite');
  await table.updateEntity(
    {
      partitionKey: key.partition,
      rowKey: TOKEN_CACHE_PREFIX + key.id,
      sealed: sealTokenCache(change(row.contents), secret, key),
    },
    'Merge',
  );
}
