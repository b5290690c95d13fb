import { HttpRequest, HttpResponse } from '@azure/functions';

/**
 * µs of CPU that `@azure/functions` spends turning one GET into an `HttpRequest` and a small
 * page answer back into bytes (what its `toRpcHttp` does: an undici `Response`, its body read
 * through a web stream). The Azure worker runs the same per invocation; measured in this
 * process, a few thousand times after a warm-up.
 */
export async function measureConversion(times = 20_000): Promise<number> {
  const headers = { host: 'localhost:7071', 'user-agent': 'undici', accept: '*/*' };
  const page = `<!doctype html><title>Static</title><main>${'x'.repeat(150)}</main>`;
  const once = async () => {
    const request = new HttpRequest({
      url: 'http://localhost:7071/api/static',
      method: 'GET',
      headers,
      params: {},
    });
    void request.query;
    const response = new HttpResponse({
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: page,
    });
    for (const header of response.headers.entries()) void header;
    await response.arrayBuffer();
  };
  for (let i = 0; i < times / 4; i++) await once();
  const before = process.cpuUsage();
  for (let i = 0; i < times; i++) await once();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / times;
}
