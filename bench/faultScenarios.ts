import { generateKeyPairSync } from 'node:crypto';
import { AUTH_TABLE_NAME } from '../src/adapters/tables/tableLayout';
import type { FaultRule } from '../test/support/faultProxy';
import type { Stack } from '../test/support/stack';
import { authTable } from '../test/support/authTable';

/** The faults of the fault table (bench/faults.ts), each as the proxies inject it. */

export const STORAGE_TIMEOUT_MS = 2000;
export const IDP_TIMEOUT_MS = 2000;
/** After a failed code redemption the callback checks for a concurrent duplicate (completeLogin). */
export const DUPLICATE_CHECK_MS = 1000;
const TOKEN = /\/oauth2\/v2\.0\/token/;
const KEYS = /\/discovery\/v2\.0\/keys/;

export interface Scenario {
  fault: string;
  /** What the user does while the fault is on: start a sign-in, or finish one. */
  step: 'login' | 'callback';
  inject(stack: Stack): Promise<void> | void;
  boundMs?: number;
  /** The failure spends the flow (the code was redeemed): a consumed flow without session. */
  consumes?: boolean;
  /** Needs an app that has never fetched the signing keys (a fresh stack). */
  freshKeys?: boolean;
}

const storageFault = (rule: FaultRule) => (stack: Stack) => stack.faults!.storage.inject(rule);
const idpFault = (rule: FaultRule) => (stack: Stack) => stack.faults!.identityProvider.inject(rule);
const answer = (status: number, body: string, headers: Record<string, string> = {}) => ({
  kind: 'respond' as const,
  status,
  body,
  headers: { 'content-type': 'text/html', ...headers },
});
const idpBound = IDP_TIMEOUT_MS + DUPLICATE_CHECK_MS;

export const SCENARIOS: Scenario[] = [
  {
    fault: 'storage never answers',
    step: 'login',
    inject: storageFault({ fault: { kind: 'blackhole' } }),
    boundMs: STORAGE_TIMEOUT_MS,
  },
  {
    fault: 'storage never answers',
    step: 'callback',
    inject: storageFault({ fault: { kind: 'blackhole' } }),
    boundMs: STORAGE_TIMEOUT_MS,
  },
  {
    fault: 'storage resets connections',
    step: 'login',
    inject: storageFault({ fault: { kind: 'reset' } }),
    boundMs: STORAGE_TIMEOUT_MS,
  },
  {
    fault: 'storage answers 503',
    step: 'login',
    inject: storageFault({ fault: answer(503, 'busy') }),
    boundMs: STORAGE_TIMEOUT_MS,
  },
  {
    fault: 'table deleted',
    step: 'login',
    inject: (stack) => authTable(stack.azurite.connectionString).deleteTable(),
  },
  {
    fault: 'answer to the consuming transaction lost',
    step: 'callback',
    inject: storageFault({
      method: 'POST',
      path: /\$batch/,
      fault: { kind: 'loseResponse' },
      times: 1,
    }),
  },
  {
    fault: 'answer to a flow write lost',
    step: 'login',
    inject: storageFault({
      method: 'POST',
      path: new RegExp(`/${AUTH_TABLE_NAME}(\\?|$)`),
      fault: { kind: 'loseResponse' },
      times: 1,
    }),
  },
  {
    fault: 'token endpoint never answers',
    step: 'callback',
    inject: idpFault({ path: TOKEN, fault: { kind: 'blackhole' } }),
    boundMs: idpBound,
  },
  {
    fault: 'token endpoint 429, Retry-After 30',
    step: 'callback',
    inject: idpFault({
      path: TOKEN,
      fault: answer(429, '{"error":"temporarily_unavailable"}', {
        'retry-after': '30',
        'content-type': 'application/json',
      }),
      times: 1,
    }),
    boundMs: idpBound,
  },
  {
    fault: 'token endpoint 500 with HTML',
    step: 'callback',
    inject: idpFault({ path: TOKEN, fault: answer(500, '<h1>error</h1>'), times: 1 }),
    boundMs: idpBound,
  },
  {
    fault: 'token endpoint 200 with garbage',
    step: 'callback',
    inject: idpFault({ path: TOKEN, fault: answer(200, '<p>'), times: 1 }),
    boundMs: idpBound,
    consumes: false,
  },
  {
    fault: 'keys (JWKS) answer 500',
    step: 'callback',
    inject: idpFault({ path: KEYS, fault: answer(500, '<h1>error</h1>') }),
    boundMs: IDP_TIMEOUT_MS,
    consumes: true,
    freshKeys: true,
  },
  {
    fault: 'keys (JWKS) empty set',
    step: 'callback',
    inject: idpFault({ path: KEYS, fault: answer(200, '{"keys":[]}') }),
    boundMs: IDP_TIMEOUT_MS,
    consumes: true,
    freshKeys: true,
  },
  {
    fault: 'keys (JWKS) never answer',
    step: 'callback',
    inject: idpFault({ path: KEYS, fault: { kind: 'blackhole' } }),
    boundMs: IDP_TIMEOUT_MS,
    consumes: true,
    freshKeys: true,
  },
  {
    fault: 'key rotated in right after a fetch',
    step: 'callback',
    inject: idpFault({
      path: KEYS,
      fault: answer(200, unrelatedKeySet(), { 'content-type': 'application/json' }),
      times: 1,
    }),
    freshKeys: true,
  },
];

function unrelatedKeySet(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'not-the-signing-key', use: 'sig' }],
  });
}
