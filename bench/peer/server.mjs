// The benchmark's peer: the same sign-in done the way an Express app does it with Auth.js
// (@auth/express, Microsoft Entra ID provider, stateless JWT session, state + PKCE + nonce
// checks), against the same local Entra emulator. Run by bench/sideBySide.ts with plain node:
//
//   PORT=0 AUTH_SECRET=... PEER_ISSUER=https://localhost:<port>/<tenant>/v2.0 \
//   PEER_CLIENT_ID=... PEER_CLIENT_SECRET=... NODE_EXTRA_CA_CERTS=<emulator cert> node server.mjs
//
// Routes: /auth/* (Auth.js: csrf, signin, callback, session...), GET /api/me (the session's
// user as JSON, 401 without one), GET /api/static (a static page, the trivial request floor).
import { ExpressAuth, getSession } from '@auth/express';
import MicrosoftEntraID from '@auth/express/providers/microsoft-entra-id';
import express from 'express';

const env = process.env;
for (const name of ['AUTH_SECRET', 'PEER_ISSUER', 'PEER_CLIENT_ID', 'PEER_CLIENT_SECRET']) {
  if (!env[name]) throw new Error(`${name} is required`);
}

const authConfig = {
  trustHost: true,
  secret: env.AUTH_SECRET,
  session: { strategy: 'jwt' },
  providers: [
    MicrosoftEntraID({
      clientId: env.PEER_CLIENT_ID,
      clientSecret: env.PEER_CLIENT_SECRET,
      issuer: env.PEER_ISSUER,
      // The emulator's client registration posts the secret in the body, as MSAL does.
      client: { token_endpoint_auth_method: 'client_secret_post' },
      checks: ['state', 'pkce', 'nonce'],
      // The same scopes as the project asks for (the provider's default adds Graph's User.Read).
      authorization: { params: { scope: 'openid profile email offline_access' } },
      // The provider's default profile() fetches the user's photo from graph.microsoft.com on
      // every sign-in; offline there is no Graph, and the project fetches no photo either.
      profile: (profile) => ({
        id: profile.sub,
        name: profile.name,
        email: profile.email ?? profile.preferred_username,
        image: null,
      }),
    }),
  ],
};

const STATIC_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Static</title></head>
<body><main><h1>A static page</h1><p>The trivial request floor: no session, no storage.</p></main></body></html>`;

const app = express();
app.disable('x-powered-by');
app.set('trust proxy', false);
app.use('/auth', ExpressAuth(authConfig));

app.get('/api/me', async (req, res) => {
  const session = await getSession(req, authConfig);
  if (!session?.user) return void res.status(401).json({ authenticated: false });
  res.json({ authenticated: true, user: session.user, expiresAt: session.expires });
});

app.get('/api/static', (_req, res) => {
  res.type('html').send(STATIC_PAGE);
});

// Loopback only, on 127.0.0.1 and [::1] with one port, as the project's local host listens:
// clients resolve "localhost" to either.
const listen = (port, host) =>
  new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error) => (error ? reject(error) : resolve(server)));
  });
const ipv4 = await listen(Number(env.PORT ?? 0), '127.0.0.1');
const port = ipv4.address().port;
const servers = [ipv4, await listen(port, '::1').catch(() => undefined)].filter(Boolean);
console.log(`PEER_READY http://localhost:${port}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const server of servers) server.closeAllConnections();
    Promise.all(servers.map((server) => new Promise((done) => server.close(done)))).then(() =>
      process.exit(0),
    );
  });
}
