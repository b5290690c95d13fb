const { app, HttpResponse } = require('@azure/functions');

app.http('echo', {
  route: 'things/{id}',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: async (request) => ({
    status: 201,
    headers: { 'X-Echo': 'yes' },
    jsonBody: {
      method: request.method,
      url: request.url,
      query: Object.fromEntries(request.query),
      params: request.params,
      header: request.headers.get('x-custom'),
      cookie: request.headers.get('cookie'),
      body: await request.text(),
    },
    cookies: [
      {
        name: 'a',
        value: '1',
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
        maxAge: 60,
      },
      { name: 'b', value: '', maxAge: 0 },
    ],
  }),
});

app.get('response', {
  authLevel: 'anonymous',
  handler: async () => new HttpResponse({ status: 202, body: 'plain' }),
});

app.get('boom', {
  authLevel: 'anonymous',
  handler: async () => {
    throw new Error('handler bug');
  },
});

app.get('hooked', {
  authLevel: 'anonymous',
  handler: async () => ({ body: 'the function' }),
});
