import { randomInt } from 'node:crypto';
import http from 'node:http';
import { closeServers, listenOnLoopback, portOf } from './loopback';
import httpProxy from 'http-proxy';

/**
 * A load balancer without affinity, as a scaled-out app meets it at its worst: every request
 * goes to an instance picked at random (no sticky sessions, no per-connection choice), the
 * Host header stays as the browser sent it (the app sees its public origin) and no
 * X-Forwarded-* headers are added. Built on http-proxy; records which instance served what.
 */

export interface ServedRequest {
  /** Index into the targets. */
  instance: number;
  method: string;
  path: string;
  status?: number;
  /** The OAuth state this request carries (callback) or starts (login's redirect). */
  state?: string;
}

export interface LoadBalancer {
  /** The public port; listens on 127.0.0.1 and, where available, ::1. */
  port: number;
  origin: string;
  /** Upstream ports; requests before they are set get 503. */
  setTargets(ports: readonly number[]): void;
  readonly served: readonly ServedRequest[];
  close(): Promise<void>;
}

export async function startLoadBalancer(options: { port?: number } = {}): Promise<LoadBalancer> {
  let targets: readonly number[] = [];
  const served: ServedRequest[] = [];
  // Keep-alive toward the instances is fine: the choice is made per request, not per connection.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const proxy = httpProxy.createProxyServer({
    xfwd: false,
    changeOrigin: false,
    agent,
    proxyTimeout: 30_000,
  });
  const records = new WeakMap<http.IncomingMessage, ServedRequest>();

  proxy.on('proxyRes', (proxyRes, req) => {
    const record = records.get(req);
    if (!record) return;
    record.status = proxyRes.statusCode;
    const location = proxyRes.headers.location;
    if (!record.state && location) {
      const state = stateOf(new URL(location, 'http://placeholder'));
      if (state) record.state = state;
    }
  });
  proxy.on('error', (error, _req, res) => {
    if (res instanceof http.ServerResponse && !res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`load balancer: ${error.message}`);
    } else {
      res.destroy();
    }
  });

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (targets.length === 0) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('load balancer: no instances');
      return;
    }
    const instance = randomInt(targets.length);
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const record: ServedRequest = {
      instance,
      method: req.method ?? 'GET',
      path: url.pathname,
      state: stateOf(url),
    };
    served.push(record);
    records.set(req, record);
    proxy.web(req, res, { target: `http://127.0.0.1:${targets[instance]}` });
  };

  // Browsers try both loopback addresses for "localhost".
  const servers = await listenOnLoopback(options.port ?? 0, () => http.createServer(handle));
  const port = portOf(servers);

  return {
    port,
    origin: `http://localhost:${port}`,
    setTargets: (ports) => {
      targets = [...ports];
    },
    served,
    close: async () => {
      await closeServers(servers);
      proxy.close();
      agent.destroy();
    },
  };
}

/**
 * For every flow in these requests (by its state): the instance that started it (the login
 * whose redirect carried the state) and the one that first answered its callback.
 */
export function flowsOf(
  served: readonly ServedRequest[],
): Map<string, { login?: number; callback?: number }> {
  const flows = new Map<string, { login?: number; callback?: number }>();
  for (const r of served) {
    if (!r.state) continue;
    const flow = flows.get(r.state) ?? {};
    if (r.path.endsWith('/auth/login')) flow.login = r.instance;
    if (r.path.endsWith('/auth/callback')) flow.callback ??= r.instance;
    flows.set(r.state, flow);
  }
  return flows;
}

function stateOf(url: URL): string | undefined {
  return url.searchParams.get('state') ?? undefined;
}
