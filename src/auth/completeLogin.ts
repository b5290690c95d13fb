import type { RecordKey, SessionRecord, StoredFlow } from '../ports/AuthStore';
import type { IssuedTokens } from '../ports/IdentityProvider';
import type { AuthContext } from './AuthContext';
import {
  FLOW_RETENTION_SECONDS,
  clearCookie,
  decodeState,
  flowCookieName,
  readFlowCookies,
  readSessionCookie,
  sessionCookie,
  type FlowCookie,
} from './cookies';
import { AuthError, isAuthError } from './errors';
import { validateIdToken } from './idToken';
import { aadstsCode, errorForLog, forDisplay, forLog } from './redact';
import { checkParameter } from './requestLimits';
import type { RedirectResult } from './results';
import { constantTimeEqual, randomToken, SESSION_SECRET_BYTES, sha256 } from './secrets';
import { findCurrentSession, sessionClaims, sessionKeyOf } from './sessions';
import { emptyTokenCache, sealTokenCache, withIssuedTokens } from './tokenCache';

export interface CallbackRequest {
  url: URL;
  cookies: Readonly<Record<string, string>>;
}

/** After a failed code redemption, how long to wait for a concurrent duplicate to commit. */
const DUPLICATE_SETTLE_ATTEMPTS = 5;
const DUPLICATE_SETTLE_DELAY_MS = 200;

/**
 * Finishes a sign-in at the redirect URI. Checks run in this order (README, How it works): the provider's error,
 * then the flow cookie, the flow record, its state (used, expired), the code redemption, the
 * ID token; the flow is consumed and the session created in one atomic step.
 */
export async function completeLogin(
  ctx: AuthContext,
  request: CallbackRequest,
): Promise<RedirectResult> {
  const query = request.url.searchParams;
  const state = checkParameter('state', query.get('state') ?? undefined, { maxLength: 256 });
  const code = checkParameter('code', query.get('code') ?? undefined, { maxLength: 8192 });
  const idpError = checkParameter('error', query.get('error') ?? undefined, {
    maxLength: 256,
    pattern: /^[A-Za-z0-9_.-]*$/,
  });
  const idpErrorDescription = checkParameter(
    'error_description',
    query.get('error_description') ?? undefined,
    // Entra's descriptions span lines ("AADSTS50011: ...\r\nTrace ID: ...").
    // eslint-disable-next-line no-control-regex
    { maxLength: 4096, pattern: /^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/ },
  );
  const flowCookies = readFlowCookies(request.cookies);

  // An error from the provider comes first, whatever the state of storage: the flow it ends,
  // if this browser holds it, is consumed (best effort) so that it cannot be reused.
  // @see https://datatracker.ietf.org/doc/html/rfc6749#section-4.1.2.1
  if (idpError) {
    const found = await findFlowOfThisBrowser(ctx, state, flowCookies).catch(() => undefined);
    if (found?.stored && !found.stored.flow.consumedAt) await consumeQuietly(ctx, found.stored);
    // The log gets the error code, Entra's AADSTS number and a redacted, capped excerpt: a
    // hostile or buggy provider may echo the secret, code or verifier it was sent.
    const aadsts = aadstsCode(idpErrorDescription);
    const excerpt = idpErrorDescription ? `: ${forLog(idpErrorDescription)}` : '';
    const error = new AuthError(
      'idp_error',
      `identity provider returned ${forLog(idpError, 64)}${aadsts ? ` (${aadsts})` : ''}${excerpt}`,
      {
        // The provider's own words are shown only for a flow this browser started: otherwise
        // anyone could put text of their choosing on this origin's error page.
        details: found?.stored
          ? forDisplay(idpErrorDescription ? `${idpError}: ${idpErrorDescription}` : idpError)
          : undefined,
      },
    );
    error.returnTo = found?.stored?.flow.returnTo;
    throw error;
  }

  const found = await findFlowOfThisBrowser(ctx, state, flowCookies);
  try {
    return await finish(ctx, request, { state, code }, flowCookies, found);
  } catch (error) {
    // "Sign in again" keeps the return URL of the flow that failed.
    if (isAuthError(error) && found.stored) error.returnTo ??= found.stored.flow.returnTo;
    throw error;
  }
}

interface CallbackParameters {
  state?: string;
  code?: string;
}

async function finish(
  ctx: AuthContext,
  request: CallbackRequest,
  { state, code }: CallbackParameters,
  flowCookies: FlowCookie[],
  found: FoundFlow,
): Promise<RedirectResult> {
  const { store, clock, config, log } = ctx;

  if (!found.stored) {
    if (found.unboundKey) {
      const replay = await replayOfFinishedFlow(ctx, request, found.unboundKey);
      if (replay) return replay;
    }
    if (flowCookies.length === 0) {
      throw new AuthError('missing_flow_cookie', 'the callback came without any flow cookie');
    }
    throw new AuthError('unknown_state', found.why);
  }

  const stored = found.stored;
  const now = clock.now();
  if (stored.flow.consumedAt) return alreadyUsed(ctx, request, stored);
  if (stored.flow.expiresAt <= now) {
    throw new AuthError('state_expired', `flow expired at ${stored.flow.expiresAt.toISOString()}`);
  }
  if (!code || !state) throw new AuthError('invalid_request', 'callback without code or state');

  let idToken: string;
  let tokens: IssuedTokens | undefined;
  try {
    ({ idToken, tokens } = await ctx.identityProvider.redeemCode({
      code,
      state,
      nonce: stored.flow.nonce,
      codeVerifier: stored.flow.codeVerifier,
    }));
  } catch (error) {
    // The provider answered but its token failed a check (e.g. msal-node's own nonce check):
    // the code is spent, so consume the flow and say so.
    if (isAuthError(error) && error.code === 'invalid_id_token') {
      await consumeQuietly(ctx, stored);
      throw error;
    }
    // A duplicate of this callback running concurrently redeemed the code first: once it has
    // consumed the flow, this is a replay, not a provider failure.
    if (await consumedByAnother(ctx, stored)) return alreadyUsed(ctx, request, stored);
    // The provider refused this code (no duplicate won): no reload can succeed, so the flow is
    // consumed and a replay of the callback costs no further call at the token endpoint. A
    // provider failure (timeout, 5xx) leaves it, for a reload to finish the sign-in.
    if (isAuthError(error) && error.final) await consumeQuietly(ctx, stored);
    throw error;
  }

  let user;
  try {
    const metadata = await ctx.identityProvider.metadata();
    user = await validateIdToken(idToken, {
      clientId: config.clientId,
      issuer: metadata.issuer,
      algorithms: metadata.idTokenSigningAlgorithms,
      allowedTenants: config.allowedTenants,
      nonce: stored.flow.nonce,
      now,
      keys: ctx.signingKeys,
    });
  } catch (error) {
    // The code is spent: consume the flow so a reload says so instead of retrying.
    if (isAuthError(error)) await consumeQuietly(ctx, stored);
    throw error;
  }

  const secret = randomToken(SESSION_SECRET_BYTES);
  const session: SessionRecord = {
    // A new id at every sign-in, against session fixation; the row sits beside its flow.
    key: sessionKeyOf(stored.flow.key.partition, secret),
    user: sessionClaims(user),
    createdAt: now,
    idleExpiresAt: new Date(now.getTime() + config.sessionIdleSeconds * 1000),
    absoluteExpiresAt: new Date(now.getTime() + config.sessionAbsoluteSeconds * 1000),
  };
  // The tokens for APIs, sealed with the new cookie's secret (src/auth/tokenCache.ts), are
  // written with the session in the same transaction.
  if (tokens?.refreshToken) {
    const contents = withIssuedTokens(emptyTokenCache(), tokens, now.getTime());
    session.tokenCache = { sealed: sealTokenCache(contents, secret, session.key) };
  }
  let outcome;
  try {
    outcome = await store.consumeFlow(stored, now, session);
  } catch (error) {
    // Claims the store cannot hold will not fit on a retry either: the code is spent.
    if (isAuthError(error) && error.code === 'claims_too_large') await consumeQuietly(ctx, stored);
    throw error;
  }
  if (outcome === 'already_consumed') return alreadyUsed(ctx, request, stored);

  // Signing in again replaces this browser's previous session.
  const previous = readSessionCookie(request.cookies);
  if (previous) {
    const previousKey = sessionKeyOf(previous.partition, previous.secret);
    // Its tokens first: a token cache never outlives its session.
    await ctx.tokenCache
      .deleteTokenCache(previousKey)
      .then(() => store.deleteSession(previousKey))
      .catch((error) => {
        log.warn(`callback: previous session not deleted: ${errorForLog(error)}`);
      });
  }
  log.info(`callback: signed in oid=${user.oid} tid=${user.tid}`);
  return {
    kind: 'redirect',
    location: absolute(stored.flow.returnTo, config),
    cookies: [
      sessionCookie(session.key.partition, secret, config.sessionAbsoluteSeconds),
      // The flow is finished: its cookie would only weigh on every later request.
      clearCookie(flowCookieName(stored.flow.key.id)),
    ],
  };
}

type FoundFlow =
  | { stored: StoredFlow; why?: undefined; unboundKey?: undefined }
  /** unboundKey: the state names a flow, but this browser holds no cookie for it. */
  | { stored?: undefined; why: string; unboundKey?: RecordKey };

/** The flow named by state, provided this browser holds the cookie it was bound to. */
async function findFlowOfThisBrowser(
  ctx: AuthContext,
  state: string | undefined,
  flowCookies: FlowCookie[],
): Promise<FoundFlow> {
  const key = state ? decodeState(state) : undefined;
  if (!key) return { why: 'state is missing or malformed' };
  // The flow cookie binds the state to the browser that started the flow (login CSRF).
  // @see https://datatracker.ietf.org/doc/html/rfc9700#section-4.7.1
  const cookie = flowCookies.find((c) => c.name === flowCookieName(key.id));
  if (!cookie) return { why: 'this browser holds no flow cookie for this state', unboundKey: key };
  const stored = await ctx.store.readFlow(key);
  if (!stored) return { why: 'no flow record for this state' };
  // Past its retention a record is as good as deleted, whether or not cleanup has run yet.
  const retainedUntil = stored.flow.expiresAt.getTime() + FLOW_RETENTION_SECONDS * 1000;
  if (ctx.clock.now().getTime() >= retainedUntil) {
    return { why: 'the flow record is past its retention' };
  }
  if (!constantTimeEqual(sha256(cookie.secret), stored.flow.cookieHash)) {
    return { why: "the flow cookie does not match the flow record's binding" };
  }
  return { stored };
}

/**
 * A reload of a callback that succeeded (which cleared its flow cookie): found by the state alone,
 * a consumed flow (it signs no one in again) sends on only the browser holding the session that
 * flow created: without the flow cookie nothing else ties this browser to the flow, and any other
 * session would learn the flow's return URL. Anything else, storage down included, is left to the
 * missing or unknown cookie errors.
 */
async function replayOfFinishedFlow(
  ctx: AuthContext,
  request: CallbackRequest,
  key: RecordKey,
): Promise<RedirectResult | undefined> {
  const stored = await ctx.store.readFlow(key).catch(() => undefined);
  if (!stored?.flow.consumedAt) return undefined;
  const retainedUntil = stored.flow.expiresAt.getTime() + FLOW_RETENTION_SECONDS * 1000;
  if (ctx.clock.now().getTime() >= retainedUntil) return undefined;
  const { key: flowKey, sessionId } = stored.flow;
  return alreadyUsed(
    ctx,
    request,
    stored,
    (session) => session.key.partition === flowKey.partition && session.key.id === sessionId,
  );
}

/** A consumed flow: a browser that already holds a valid session (of `accepted`) simply goes on. */
async function alreadyUsed(
  ctx: AuthContext,
  request: CallbackRequest,
  stored: StoredFlow,
  accepted: (session: SessionRecord) => boolean = () => true,
): Promise<RedirectResult> {
  const flowCookie = flowCookieName(stored.flow.key.id);
  const session = await findCurrentSession(ctx, request.cookies);
  if (session && accepted(session)) {
    ctx.log.info('callback: flow already used, browser already signed in: redirecting');
    return {
      kind: 'redirect',
      location: absolute(stored.flow.returnTo, ctx.config),
      cookies: flowCookie in request.cookies ? [clearCookie(flowCookie)] : [],
    };
  }
  throw new AuthError('state_already_used', 'the flow was already consumed');
}

async function consumeQuietly(ctx: AuthContext, stored: StoredFlow): Promise<void> {
  try {
    await ctx.store.consumeFlow(stored, ctx.clock.now());
  } catch (error) {
    ctx.log.warn(`callback: could not consume the failed flow: ${errorForLog(error)}`);
  }
}

async function consumedByAnother(ctx: AuthContext, stored: StoredFlow): Promise<boolean> {
  for (let attempt = 0; attempt < DUPLICATE_SETTLE_ATTEMPTS; attempt++) {
    const current = await ctx.store.readFlow(stored.flow.key).catch(() => undefined);
    if (!current || current.flow.consumedAt) return Boolean(current);
    await new Promise((resolve) => setTimeout(resolve, DUPLICATE_SETTLE_DELAY_MS));
  }
  return false;
}

/** The return URL as an absolute URL; it was validated at login, and is checked again here. */
function absolute(returnTo: string, config: AuthContext['config']): string {
  const appOrigin = config.redirectUri.origin;
  const url = new URL(returnTo, appOrigin);
  const allowed = url.origin === appOrigin || config.allowedRedirectOrigins.includes(url.origin);
  return allowed ? url.href : `${appOrigin}/`;
}
