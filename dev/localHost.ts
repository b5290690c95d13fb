import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { loadAppEntry } from './host/appEntry';
import {
  installFunctionsCore,
  type FunctionsCoreRegistry,
  type RegisteredFunction,
  type RpcHttpData,
  type RpcLogCategory,
  type RpcLogLevel,
} from './host/functionsCore';
import { homePage, openablePaths } from './host/homePage';
import { invokeFunction } from './host/invoke';
import { flattenHeaders, httpResultOf, writeResponse } from './host/rpcHttp';
import { startTimers } from './host/timers';
import { triggerOf } from './host/triggers';
import { closeServers, listenOnLoopback, portOf } from './loopback';

/**
 * A small stand-in for Azure Functions Core Tools, used when `func` is not installed. It provides
 * `@azure/functions-core` (see host/functionsCore.ts), loads the app's entry (package.json `main`)
 * so that its `app.http` / `app.timer` calls register here, serves each HTTP function on its route
 * under host.json's routePrefix by handing the app's programming model an RPC invocation request,
 * and runs timers on their NCRONTAB schedule. One app per process. A dev runner, not a framework.
 */

export interface LocalHostOptions {
  /** The app folder: its package.json `main` is loaded, its host.json read. */
  appDir: string;
  port: number;
  log?: (line: string) => void;
  /** One line per request (method, path, status, duration); off by default. */
  logRequests?: boolean;
  /** Run timers on their schedule (default true). */
  runTimers?: boolean;
}

export interface RunningLocalHost {
  port: number;
  /** The functions the app registered, by name. */
  functionNames: string[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export function readRoutePrefix(hostJsonPath: string): string {
  if (!existsSync(hostJsonPath)) return 'api';
  const hostJson = JSON.parse(readFileSync(hostJsonPath, 'utf8')) as {
    extensions?: { http?: { routePrefix?: string } };
  };
  return hostJson.extensions?.http?.routePrefix ?? 'api';
}

interface HttpRoute {
  registered: RegisteredFunction;
  /** As registered, relative to the route prefix. */
  route: string;
  pattern: RegExp;
  methods: string[];
  triggerName: string;
  /** The function's log sink, made once: no closure per request. */
  log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;
}

let started = false;

export async function startLocalHost(options: LocalHostOptions): Promise<RunningLocalHost> {
  // The module and the registrations are per process, as in a worker.
  if (started) throw new Error('One local host per process.');
  started = true;
  const log = options.log ?? ((line: string) => console.log(line));
  const coreLog = (level: RpcLogLevel, category: string, message: string, name = 'host') => {
    if (level === 'trace' || level === 'debug' || level === 'none') return;
    log(`[${name}] ${category === 'system' ? `${level} (system)` : level}: ${message}`);
  };
  const registry = installFunctionsCore((level, category, message) =>
    coreLog(level, category, message),
  );
  await loadAppEntry(options.appDir);
  // As the worker does once the entry is loaded, and before it is stopped.
  const appHook = async (name: 'appStart' | 'appTerminate') => {
    const context = {
      hookData: {},
      appHookData: registry.appHookData,
      functionAppDirectory: options.appDir,
    };
    for (const hook of registry.hooks(name)) await hook(context);
  };
  await appHook('appStart');
  const routePrefix = readRoutePrefix(path.join(options.appDir, 'host.json'));
  const routes = httpRoutes(registry, routePrefix, coreLog);
  const routesByMethod = routesPerMethod(routes);
  const functionNames = registry.functions.map((f) => f.metadata.name);
  const home = homePage(
    openablePaths(
      routePrefix,
      routes.filter((r) => r.methods.includes('GET')).map((r) => r.route),
    ),
  );

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = options.logRequests ? performance.now() : 0;
    const url = requestUrl(req, options.port);
    let status = 500;
    try {
      if (!url) {
        // A Host header that is not host[:port] ("a b", "u@localhost") or a request target
        // that is not a path: the client's mistake, so 400, never a crash or a 500.
        status = 400;
        res.writeHead(400).end();
        return;
      }
      const method = (req.method ?? 'GET').toUpperCase();
      const pathname = url.pathname;
      let match: RegExpExecArray | null = null;
      let route: HttpRoute | undefined;
      for (const candidate of routesByMethod.get(method) ?? NO_ROUTES) {
        match = candidate.pattern.exec(pathname);
        if (match) {
          route = candidate;
          break;
        }
      }
      if (!route && pathname === '/' && (method === 'GET' || method === 'HEAD')) {
        status = 200;
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(home);
        return;
      }
      if (!route || !match) {
        const allowed = routes.filter((r) => r.pattern.test(pathname)).flatMap((r) => r.methods);
        status = allowed.length > 0 ? 405 : 404;
        res.writeHead(status, allowed.length > 0 ? { Allow: allowed.join(', ') } : {}).end();
        return;
      }
      const body = hasBody(req) ? await readBody(req) : undefined;
      const invocationId = randomUUID();
      // The RPC shape the worker receives: headers as strings, query and params as records,
      // the body as bytes only when there is one.
      const httpData: RpcHttpData = {
        method,
        url: url.href,
        headers:
          'set-cookie' in req.headers
            ? flattenHeaders(req.headers)
            : (req.headers as Record<string, string>),
        query: url.search ? Object.fromEntries(url.searchParams) : {},
        params: match.groups ? { ...match.groups } : {},
        body: body && body.length > 0 ? { bytes: body } : null,
      };
      const response = await invokeFunction(
        registry,
        route.registered,
        { invocationId, inputData: [{ name: route.triggerName, data: { http: httpData } }] },
        route.log,
      );
      status = writeResponse(res, httpResultOf(route.registered, response));
    } catch (error) {
      // The Functions host answers a failed invocation with 500 and no body.
      status = error instanceof BodyTooLarge ? 413 : 500;
      log(
        `[host] ${req.method} ${url?.pathname} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      // An oversized body is left unread: the connection closes after the answer.
      if (!res.headersSent)
        res.writeHead(status, status === 413 ? { Connection: 'close' } : {}).end();
    } finally {
      if (options.logRequests) {
        log(
          `[host] ${req.method} ${url?.pathname ?? '(malformed request target or Host)'} ${status} ${Math.round(performance.now() - started)}ms`,
        );
      }
    }
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      log(`[host] unexpected failure: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const servers = await listenOnLoopback(options.port, () =>
    Object.assign(http.createServer(onRequest), { keepAliveTimeout: 5_000 }),
  );
  const timers = options.runTimers === false ? [] : startTimers(registry, coreLog);

  return {
    port: portOf(servers),
    functionNames,
    close: async () => {
      for (const timer of timers) timer.stop();
      await appHook('appTerminate');
      await closeServers(servers);
    },
  };
}

const NO_ROUTES: readonly HttpRoute[] = [];

function httpRoutes(
  registry: FunctionsCoreRegistry,
  routePrefix: string,
  coreLog: (level: RpcLogLevel, category: string, message: string, name?: string) => void,
): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const registered of registry.functions) {
    const [triggerName, trigger] = triggerOf(registered) ?? [];
    if (!triggerName || trigger?.type?.toLowerCase() !== 'httptrigger') continue;
    const name = registered.metadata.name;
    const route = typeof trigger.route === 'string' ? trigger.route : name;
    const methods = Array.isArray(trigger.methods)
      ? (trigger.methods as string[]).map((m) => m.toUpperCase())
      : ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
    routes.push({
      registered,
      route,
      pattern: routePattern(routePrefix, route),
      methods,
      triggerName,
      log: (level, category, message) => coreLog(level, category, message, name),
    });
  }
  return routes;
}

/** The routes by method, in registration order: a request tries only its method's routes. */
function routesPerMethod(routes: HttpRoute[]): Map<string, HttpRoute[]> {
  const byMethod = new Map<string, HttpRoute[]>();
  for (const route of routes) {
    for (const method of route.methods) {
      const list = byMethod.get(method) ?? [];
      list.push(route);
      byMethod.set(method, list);
    }
  }
  return byMethod;
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

/** An Azure Functions route template: `{name}`, `{name:constraint}`, `{name?}`, `{*rest}`. */
function routePattern(prefix: string, route: string): RegExp {
  const segments = [prefix, route]
    .filter(Boolean)
    .join('/')
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const catchAll = /^\{\*(\w+)\}$/.exec(segment);
      if (catchAll) return `(?<${catchAll[1]}>.*)`;
      const param = /^\{(\w+)(?::[^}]*)?\??\}$/.exec(segment);
      return param ? `(?<${param[1]}>[^/]+)` : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    });
  return new RegExp(`^/${segments.join('/')}/?$`, 'i');
}

class BodyTooLarge extends Error {}

/** RFC 9112: a request has a body only with Content-Length (non-zero) or Transfer-Encoding. */
function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLarge(`request body over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
