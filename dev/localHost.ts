import {
  HttpRequest,
  HttpResponse,
  InvocationContext,
  type Cookie,
  type HttpResponseInit,
  type Timer,
} from '@azure/functions';
import { Cron } from 'croner';
import { serialize } from 'cookie';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { FunctionDefinition, HttpFunctionDefinition } from '../src/functions/definitions';
import { closeServers, listenOnLoopback, portOf } from './loopback';

/**
 * A small stand-in for Azure Functions Core Tools, used when `func` is not installed: serves
 * the app's own function definitions over Node's http with host.json's routePrefix, using the
 * public HttpRequest / InvocationContext constructors of @azure/functions, and runs timer
 * functions on their schedule. A dev runner, not a framework.
 */

export interface LocalHostOptions {
  definitions: readonly FunctionDefinition[];
  routePrefix: string;
  port: number;
  log?: (line: string) => void;
  /** Run timers on their schedule (tests may turn this off and invoke them directly). */
  runTimers?: boolean;
}

export interface RunningLocalHost {
  port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export function readRoutePrefix(hostJsonPath: string): string {
  const hostJson = JSON.parse(readFileSync(hostJsonPath, 'utf8')) as {
    extensions?: { http?: { routePrefix?: string } };
  };
  return hostJson.extensions?.http?.routePrefix ?? 'api';
}

export async function startLocalHost(options: LocalHostOptions): Promise<RunningLocalHost> {
  const log = options.log ?? ((line: string) => console.log(line));
  const routes = options.definitions
    .filter((d): d is HttpFunctionDefinition => d.kind === 'http')
    .map((d) => ({ definition: d, pattern: routePattern(options.routePrefix, d.route) }));

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    const url = requestUrl(req, options.port);
    if (!url) {
      // A Host header that is not host[:port] ("a b", "u@localhost") or a request target that
      // is not a path: the client's mistake, so 400, never a crash or a 500.
      res.writeHead(400).end();
      log(`[host] ${req.method} (malformed request target or Host) 400`);
      return;
    }
    let status = 500;
    try {
      const matching = routes
        .map((r) => ({ ...r, match: r.pattern.exec(url.pathname) }))
        .filter((r) => r.match !== null);
      const method = (req.method ?? 'GET').toUpperCase();
      const route = matching.find((r) => (r.definition.methods as string[]).includes(method));
      if (!route) {
        status = matching.length > 0 ? 405 : 404;
        const allow = matching.flatMap((r) => r.definition.methods).join(', ');
        res.writeHead(status, allow ? { Allow: allow } : {}).end();
        return;
      }
      const body = await readBody(req);
      const request = new HttpRequest({
        method,
        url: url.href,
        headers: flattenHeaders(req.headers),
        query: Object.fromEntries(url.searchParams),
        params: { ...route.match?.groups },
        ...(body.length > 0 ? { body: { bytes: body } } : {}),
      });
      const context = invocationContext(route.definition.name, log);
      const result = await route.definition.handler(request, context);
      status = await writeResponse(res, result);
    } catch (error) {
      status = error instanceof BodyTooLarge ? 413 : 500;
      log(
        `[host] ${req.method} ${url.pathname} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      if (!res.headersSent) res.writeHead(status).end();
    } finally {
      log(
        `[host] ${req.method} ${url.pathname} ${status} ${Math.round(performance.now() - started)}ms`,
      );
    }
  };

  const servers = await listenOnLoopback(options.port, () =>
    Object.assign(
      http.createServer((req, res) => {
        handle(req, res).catch((error: unknown) => {
          log(`[host] unexpected failure: ${String(error)}`);
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      }),
      { keepAliveTimeout: 5_000 },
    ),
  );
  const port = portOf(servers);

  const timers =
    (options.runTimers ?? true)
      ? options.definitions
          .filter((d) => d.kind === 'timer')
          .map(
            (d) =>
              new Cron(d.schedule, { protect: true, catch: true }, async (job: Cron) => {
                const context = invocationContext(d.name, log);
                const now = new Date().toISOString();
                const timer: Timer = {
                  isPastDue: false,
                  schedule: { adjustForDST: false },
                  scheduleStatus: {
                    last: now,
                    next: job.nextRun()?.toISOString() ?? '',
                    lastUpdated: now,
                  },
                };
                try {
                  await d.handler(timer, context);
                  log(`[host] timer ${d.name} ran`);
                } catch (error) {
                  log(
                    `[host] timer ${d.name} failed: ${error instanceof Error ? error.message : String(error)}`,
                  );
                }
              }),
          )
      : [];

  return {
    port,
    close: async () => {
      for (const timer of timers) timer.stop();
      await closeServers(servers);
    },
  };
}

/** RFC 9110 Host: uri-host [":" port], no userinfo; a reg-name or an IP literal. */
const HOST_HEADER = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The request's URL from an origin-form target and a well-formed Host, else undefined. */
function requestUrl(req: http.IncomingMessage, port: number): URL | undefined {
  const host = req.headers.host ?? `localhost:${port}`;
  const target = req.url ?? '/';
  if (!HOST_HEADER.test(host) || !target.startsWith('/')) return undefined;
  try {
    // Concatenated, not resolved: "//evil/x" stays a path on this host.
    const url = new URL(`http://${host}${target}`);
    return url.username || url.password ? undefined : url;
  } catch {
    return undefined;
  }
}

function routePattern(prefix: string, route: string): RegExp {
  const segments = [prefix, route]
    .filter(Boolean)
    .join('/')
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const param = /^\{(\w+)(?::[^}]*)?\??\}$/.exec(segment);
      return param ? `(?<${param[1]}>[^/]+)` : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    });
  return new RegExp(`^/${segments.join('/')}/?$`, 'i');
}

function invocationContext(functionName: string, log: (line: string) => void): InvocationContext {
  const invocationId = randomUUID();
  return new InvocationContext({
    functionName,
    invocationId,
    logHandler: (level, ...args) => {
      log(
        `[${functionName}] ${level}: ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`,
      );
    },
  });
}

async function writeResponse(
  res: http.ServerResponse,
  result: HttpResponseInit | HttpResponse | void,
): Promise<number> {
  if (!result) {
    res.writeHead(204).end();
    return 204;
  }
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name.toLowerCase() !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.cookies.map(serializeCookie);
  if (cookies.length > 0) headers['Set-Cookie'] = cookies;
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers).end(body);
  return response.status;
}

function serializeCookie(cookie: Cookie): string {
  return serialize(cookie.name, cookie.value, {
    domain: cookie.domain,
    path: cookie.path,
    expires: typeof cookie.expires === 'number' ? new Date(cookie.expires) : cookie.expires,
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    sameSite: cookie.sameSite?.toLowerCase() as 'lax' | 'strict' | 'none' | undefined,
    maxAge: cookie.maxAge,
  });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return flat;
}

class BodyTooLarge extends Error {}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export const PROJECT_HOST_JSON = path.resolve(__dirname, '..', 'host.json');
