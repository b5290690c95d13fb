import { serialize } from 'cookie';
import type http from 'node:http';
import type {
  RegisteredFunction,
  RpcHttpCookie,
  RpcHttpData,
  RpcInvocationResponse,
  RpcTypedData,
} from './functionsCore';

/**
 * The Functions host's side of HTTP over RPC: the incoming request's headers as the RPC request
 * carries them, and the RPC response (status, headers, cookies, body) written back to the client.
 */

export function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return flat;
}

/** The HTTP output of the invocation: the return value, or an output binding of type http. */
export function httpResultOf(
  registered: RegisteredFunction,
  response: RpcInvocationResponse,
): RpcHttpData | undefined {
  if (response.returnValue?.http) return response.returnValue.http;
  const httpOutput = Object.entries(registered.metadata.bindings).find(
    ([name, b]) => b.direction === 'out' && b.type === 'http' && name !== '$return',
  )?.[0];
  return response.outputData?.find((o) => o.name === httpOutput)?.data?.http ?? undefined;
}

export function writeResponse(res: http.ServerResponse, result: RpcHttpData | undefined): number {
  if (!result) {
    res.writeHead(204).end();
    return 204;
  }
  const status = Number(result.statusCode ?? 200);
  // The RPC response is this request's own: its headers are written as they are, not copied.
  const headers: Record<string, string | string[]> = result.headers ?? {};
  if (result.cookies && result.cookies.length > 0) {
    headers['Set-Cookie'] = result.cookies.map(serializeCookie);
  }
  res.writeHead(status, headers).end(bodyBytes(result.body));
  return status;
}

function bodyBytes(body: RpcTypedData | null | undefined): Buffer | undefined {
  if (!body) return undefined;
  if (body.bytes)
    return Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength);
  if (typeof body.string === 'string') return Buffer.from(body.string);
  if (typeof body.json === 'string') return Buffer.from(body.json);
  return undefined;
}

/** As the Functions host writes an RPC cookie into Set-Cookie. */
function serializeCookie(cookie: RpcHttpCookie): string {
  const sameSite = cookie.sameSite === 'explicitNone' ? 'none' : cookie.sameSite;
  const expires = cookie.expires?.value?.seconds;
  return serialize(cookie.name ?? '', cookie.value ?? '', {
    domain: cookie.domain?.value ?? undefined,
    path: cookie.path?.value ?? undefined,
    expires: typeof expires === 'number' ? new Date(expires * 1000) : undefined,
    secure: cookie.secure?.value ?? undefined,
    httpOnly: cookie.httpOnly?.value ?? undefined,
    sameSite: sameSite === 'none' || !sameSite ? undefined : sameSite,
    maxAge: cookie.maxAge?.value ?? undefined,
  });
}
