import type { RecordKey } from '../ports/AuthStore';

/**
 * The flow and session cookies. Every cookie is `__Host-` prefixed, so browsers insist on
 * Secure, Path=/ and no Domain; the adapter adds HttpOnly and SameSite=Lax
 * (Lax: the callback is a top-level GET navigation from Entra, which Lax cookies survive).
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2
 *
 * One cookie per flow, named after the flow: any number of sign-ins in one browser, even ones
 * started at the same instant before any cookie exists, never overwrite each other.
 */

export const FLOW_COOKIE_PREFIX = '__Host-authflow-';
export const SESSION_COOKIE_NAME = '__Host-authsession';
/** At most this many flow cookies at once; planted ones, then the oldest, are dropped first. */
export const MAX_FLOW_COOKIES = 8;
/** How long a flow record outlives the flow, to tell "expired" and "used" from "unknown". */
export const FLOW_RETENTION_SECONDS = 60 * 60;
/** The flow cookie outlives its record by this much, so a callback never sees the record alone. */
export const FLOW_COOKIE_MARGIN_SECONDS = 60;

const FLOW_NAME_ID_LENGTH = 12;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const PARTITION = /^[A-Za-z0-9_-]{1,64}$/;
const FLOW_ID = /^[A-Za-z0-9_-]{22}$/;
const FLOW_COOKIE_VALUE = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/;
const SESSION_COOKIE_VALUE = /^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/;
/** A name a Set-Cookie header can carry (RFC 6265 token); others cannot be cleared by name. */
const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A cookie the adapter must set (maxAgeSeconds > 0) or clear (0). */
export interface CookieToSet {
  name: string;
  value: string;
  maxAgeSeconds: number;
}

export interface FlowCookie {
  name: string;
  issuedAtSeconds: number;
  secret: string;
}

/** The state parameter carries where the flow record is: `<partition>.<flow id>`. */
export function encodeState(key: RecordKey): string {
  return `${key.partition}.${key.id}`;
}

export function decodeState(state: string): RecordKey | undefined {
  const dot = state.indexOf('.');
  const partition = state.slice(0, dot);
  const id = state.slice(dot + 1);
  if (dot < 0 || !PARTITION.test(partition) || !FLOW_ID.test(id)) return undefined;
  return { partition, id };
}

export function flowCookieName(flowId: string): string {
  return FLOW_COOKIE_PREFIX + flowId.slice(0, FLOW_NAME_ID_LENGTH);
}

export function flowCookie(
  flowId: string,
  secret: string,
  issuedAt: Date,
  maxAgeSeconds: number,
): CookieToSet {
  const issuedAtSeconds = Math.floor(issuedAt.getTime() / 1000);
  return {
    name: flowCookieName(flowId),
    value: `${issuedAtSeconds.toString(36)}.${secret}`,
    maxAgeSeconds,
  };
}

/** The well-formed flow cookies a request carries; malformed ones are ignored. */
export function readFlowCookies(cookies: Readonly<Record<string, string>>): FlowCookie[] {
  const found: FlowCookie[] = [];
  for (const [name, value] of Object.entries(cookies)) {
    if (!name.startsWith(FLOW_COOKIE_PREFIX)) continue;
    const match = FLOW_COOKIE_VALUE.exec(value);
    if (!match || !TOKEN.test(name.slice(FLOW_COOKIE_PREFIX.length))) continue;
    found.push({
      name,
      issuedAtSeconds: parseInt(match[1] as string, 36),
      secret: match[2] as string,
    });
  }
  return found;
}

/** How far an instance's clock may run ahead of the one that issued a flow cookie. */
export const FLOW_COOKIE_CLOCK_SKEW_SECONDS = 120;
/** At most this many unusable flow cookies are cleared per response (the rest next time). */
const MAX_UNUSABLE_CLEARED = 2 * MAX_FLOW_COOKIES;

/** How long a flow cookie lives: its record's TTL and retention, plus a margin. */
export function flowCookieLifetimeSeconds(flowTtlSeconds: number): number {
  return flowTtlSeconds + FLOW_RETENTION_SECONDS + FLOW_COOKIE_MARGIN_SECONDS;
}

/**
 * The flow cookies to clear before one more is set, so that at most MAX_FLOW_COOKIES remain.
 * Eviction goes by what this server knows, not by what a cookie claims: first the cookies it
 * could never have issued (malformed, or an issue time in the future or older than a flow
 * cookie lives: planted ones), all of them; then the oldest of the plausible ones.
 */
export function evictFlowCookies(
  cookies: Readonly<Record<string, string>>,
  now: Date,
  lifetimeSeconds: number,
): CookieToSet[] {
  const nowSeconds = now.getTime() / 1000;
  const plausible = (cookie: FlowCookie) =>
    cookie.issuedAtSeconds <= nowSeconds + FLOW_COOKIE_CLOCK_SKEW_SECONDS &&
    cookie.issuedAtSeconds >= nowSeconds - lifetimeSeconds - FLOW_COOKIE_CLOCK_SKEW_SECONDS;
  const wellFormed = readFlowCookies(cookies);
  const usable = wellFormed.filter(plausible);
  const usableNames = new Set(usable.map((cookie) => cookie.name));
  const unusable = Object.keys(cookies)
    .filter(
      (name) =>
        name.startsWith(FLOW_COOKIE_PREFIX) && COOKIE_NAME.test(name) && !usableNames.has(name),
    )
    .slice(0, MAX_UNUSABLE_CLEARED);
  const excess = usable.length - (MAX_FLOW_COOKIES - 1);
  const oldest =
    excess > 0
      ? [...usable].sort((a, b) => a.issuedAtSeconds - b.issuedAtSeconds).slice(0, excess)
      : [];
  return [...unusable, ...oldest.map((cookie) => cookie.name)].map(clearCookie);
}

export function sessionCookie(
  partition: string,
  secret: string,
  maxAgeSeconds: number,
): CookieToSet {
  return { name: SESSION_COOKIE_NAME, value: `${partition}.${secret}`, maxAgeSeconds };
}

/** The session cookie split into the partition and the secret whose hash keys the row. */
export function readSessionCookie(
  cookies: Readonly<Record<string, string>>,
): { partition: string; secret: string } | undefined {
  const value = cookies[SESSION_COOKIE_NAME];
  const match = value === undefined ? null : SESSION_COOKIE_VALUE.exec(value);
  return match ? { partition: match[1] as string, secret: match[2] as string } : undefined;
}

export function clearCookie(name: string): CookieToSet {
  return { name, value: '', maxAgeSeconds: 0 };
}
