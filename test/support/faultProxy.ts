import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { closeServers, listenOnLoopback, portOf } from '../../dev/loopback';

/**
 * A loopback HTTP(S) proxy that stands between the app and one upstream (Azurite, the Entra
 * emulator) and misbehaves on request: per request it forwards, delays, never answers, resets
 * the connection, answers a chosen status and body, or lets the upstream act and then loses its
 * answer. Rules are switched per test. For an https upstream it terminates TLS with the
 * upstream's own certificate (the emulator's, which the app already trusts), so it can see
 * paths and answer statuses; the upstream sees the client's Host header unchanged.
 */

export type Fault =
  /** Wait, then forward. */
  | { kind: 'delay'; ms: number }
  /** Take the request and never answer (storage or a provider that accepts but hangs). */
  | { kind: 'blackhole' }
  /** Reset the connection (TCP RST) without answering. */
  | { kind: 'reset' }
  /** Answer this instead of the upstream. */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  /** Forward, let the upstream finish, then reset instead of relaying its answer. */
  | { kind: 'loseResponse' }
  /** Forward at once, then hold the upstream's answer this long (an answer from the past). */
  | { kind: 'delayAnswer'; ms: number };

export interface FaultRule {
  /** Upper-case method; any when absent. */
  method?: string;
  /** Tested against the path with its query; any when absent. */
  path?: RegExp;
  fault: Fault;
  /** How many matching requests it applies to; every one when absent. */
  times?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  /** The fault applied, if any. */
  fault?: Fault['kind'];
  /** Set once the upstream has answered (whether or not the answer was relayed yet). */
  upstreamAnswered?: boolean;
}

export interface FaultProxy {
  port: number;
  /** e.g. `http://127.0.0.1:<port>` or `https://localhost:<port>`. */
  origin: string;
  /** Where requests go: set before the first request, e.g. once the upstream has a port. */
  target: string;
  /** Adds a rule; the first matching rule with uses left wins. */
  inject(rule: FaultRule): void;
  /** Removes every rule, ends the requests held by a black hole, and empties `requests`. */
  clear(): void;
  /** Every request seen, in order. */
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The upstream, e.g. `http://127.0.0.1:10002` (may be set later through `target`). */
  target?: string;
  /** Serve https with this certificate and key (the upstream's own). */
  tls?: { cert: Buffer; key: Buffer };
  /** CA to trust for an https upstream. */
  ca?: Buffer;
}

/** Entra's token endpoint, as a rule's path matches it. */
export const TOKEN_ENDPOINT = /\/oauth2\/v2\.0\/token/;

/** The token endpoint throttling the next request: 429 with this Retry-After, in Entra's shape. */
export function tokenEndpointThrottledOnce(retryAfterSeconds: number): FaultRule {
  return {
    method: 'POST',
    path: TOKEN_ENDPOINT,
    fault: {
      kind: 'respond',
      status: 429,
      headers: { 'retry-after': String(retryAfterSeconds), 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'temporarily_unavailable', error_description: 'slow down' }),
    },
    times: 1,
  };
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

export async function startFaultProxy(options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const rules: (FaultRule & { left: number })[] = [];
  const requests: ProxiedRequest[] = [];
  const held = new Set<Socket>();
  let target = options.target ?? '';

  const matching = (req: IncomingMessage): FaultRule | undefined => {
    const rule = rules.find(
      (r) =>
        r.left > 0 &&
        (!r.method || r.method === req.method) &&
        (!r.path || r.path.test(req.url ?? '/')),
    );
    if (rule) rule.left -= 1;
    return rule;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const rule = matching(req);
    const seen: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/' };
    if (rule) seen.fault = rule.fault.kind;
    requests.push(seen);
    const fault = rule?.fault;
    switch (fault?.kind) {
      case 'blackhole':
        held.add(req.socket);
        req.socket.once('close', () => held.delete(req.socket));
        req.resume();
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'respond':
        req.resume();
        res.writeHead(fault.status, {
          'content-length': Buffer.byteLength(fault.body ?? ''),
          ...fault.headers,
        });
        res.end(fault.body ?? '');
        return;
      case 'delay':
        setTimeout(() => forward(req, res, seen), fault.ms);
        return;
      case 'loseResponse':
        forward(req, res, seen, { lose: true });
        return;
      case 'delayAnswer':
        forward(req, res, seen, { holdMs: fault.ms });
        return;
      default:
        forward(req, res, seen);
    }
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    seen: ProxiedRequest,
    answerFault: { lose?: boolean; holdMs?: number } = {},
  ) => {
    if (req.socket.destroyed) return;
    const upstream = new URL(req.url ?? '/', target);
    const client = upstream.protocol === 'https:' ? https : http;
    const headers = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const outgoing = client.request(
      upstream,
      {
        method: req.method,
        headers,
        agent: false,
        ...(upstream.protocol === 'https:'
          ? { ca: options.ca, servername: upstream.hostname }
          : {}),
      },
      (answer) => {
        seen.upstreamAnswered = true;
        if (answerFault.lose) {
          // The upstream has acted: swallow its answer, then drop the client's connection.
          answer.resume();
          answer.once('end', () => req.socket.resetAndDestroy());
          return;
        }
        const answerHeaders = { ...answer.headers };
        for (const name of HOP_BY_HOP) delete answerHeaders[name];
        const relay = () => {
          res.writeHead(answer.statusCode ?? 502, answerHeaders);
          answer.pipe(res);
        };
        if (answerFault.holdMs) setTimeout(relay, answerFault.holdMs);
        else relay();
      },
    );
    outgoing.once('error', () => req.socket.resetAndDestroy());
    req.pipe(outgoing);
  };

  const tls = options.tls;
  const servers: Server[] = await listenOnLoopback(0, () =>
    tls ? https.createServer({ cert: tls.cert, key: tls.key }, handle) : http.createServer(handle),
  );
  const port = portOf(servers);
  const endHeld = () => {
    for (const socket of held) socket.destroy();
    held.clear();
  };
  return {
    port,
    origin: tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    get target() {
      return target;
    },
    set target(value: string) {
      target = value;
    },
    inject(rule) {
      rules.push({ ...rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    },
    clear() {
      rules.length = 0;
      requests.length = 0;
      endHeld();
    },
    requests,
    close: async () => {
      endHeld();
      await closeServers(servers);
    },
  };
}
