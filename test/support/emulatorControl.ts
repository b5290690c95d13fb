/** The emulator's switches (dev/emulator/control.ts), over its plain-http front door. */
export function emulatorControl(browserOrigin: string) {
  async function call(path: string, body?: object): Promise<unknown> {
    const response = await fetch(`${browserOrigin}/_emulator/${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) throw new Error(`emulator ${path}: ${response.status}`);
    return response.json();
  }
  const tokenRequests = () =>
    call('token-requests') as Promise<{ byGrantType: Record<string, number>; total: number }>;
  return {
    tokenRequests,
    /** Refresh-token grants at the token endpoint so far. */
    refreshCount: async () => (await tokenRequests()).byGrantType.refresh_token ?? 0,
    setAccessTokenSeconds: (seconds: number) => call('settings', { accessTokenSeconds: seconds }),
    revoke: (user: string) => call(`users/${encodeURIComponent(user)}/revoke`, {}),
    /** Every Graph call fails: 503 (`unavailable`), no answer (`hang`), 403 (`forbidden`). */
    setGraphOutage: (outage: 'none' | 'unavailable' | 'hang' | 'forbidden') =>
      call('graph', { outage }),
    /** Graph calls answered so far, by path. */
    graphCalls: async () => ((await call('graph')) as { calls: Record<string, number> }).calls,
  };
}
