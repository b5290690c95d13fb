import type { HttpResponseInit } from '@azure/functions';
import { services } from '../composition';
import { NO_STORE } from './http';

/**
 * GET /api/health: 200 when the app can serve sign-ins, 503 when its settings are invalid.
 * Deliberately touches no storage and no identity provider: a probe that fails with a
 * dependency would recycle healthy instances during a storage blip, and the sign-in
 * endpoints already answer storage_unavailable / idp_unavailable within their bounds.
 * Says nothing about the settings beyond "misconfigured" (the host's log names the problems).
 */
export async function health(): Promise<HttpResponseInit> {
  let status: 'ok' | 'misconfigured' = 'ok';
  try {
    services();
  } catch {
    status = 'misconfigured';
  }
  return { status: status === 'ok' ? 200 : 503, headers: { ...NO_STORE }, jsonBody: { status } };
}
