import {
  ServerResponse,
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
} from 'node:http';

/**
 * The emulator's browser front door: plain http on localhost (a secure context for browsers, so
 * Secure cookies work) in front of the same provider, so that a person's browser never meets
 * the self-signed certificate. oidc-provider (koa with `proxy` on) takes front-door requests
 * for requests to the https origin; the answers are mapped back to the front door here.
 */

/**
 * Headers that say what a proxy saw. Only the front door may set them, so they are removed
 * from every request first, on both listeners: a client cannot choose the URLs, issuer or
 * cookie flags the provider works with.
 */
export function withoutForwardedHeaders(req: IncomingMessage): IncomingMessage {
  for (const name of Object.keys(req.headers)) {
    if (name === 'forwarded' || name.startsWith('x-forwarded-')) delete req.headers[name];
  }
  return req;
}

/** Presents a front-door request to oidc-provider as one that reached `https://<httpsHost>`. */
export function asHttpsRequest(req: IncomingMessage, httpsHost: string): void {
  req.headers['x-forwarded-proto'] = 'https';
  req.headers['x-forwarded-host'] = httpsHost;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Rewrite {
  location(value: string): string;
  html(text: string): string;
}

function rewriteOf(httpsOrigin: string, frontDoorOrigin: string): Rewrite {
  const origin = escapeRegExp(httpsOrigin);
  // Only URLs in attributes the browser follows (form actions, links): a hidden input's value,
  // such as an `iss` in a form_post response, must reach the app unchanged.
  const attribute = new RegExp(
    `(\\s(?:action|formaction|href|src)\\s*=\\s*["']?)${origin}(?=[/?#"'\\s>]|$)`,
    'gi',
  );
  const location = new RegExp(`^${origin}(?=[/?#]|$)`, 'i');
  return {
    location: (value) => value.replace(location, frontDoorOrigin),
    html: (text) => text.replace(attribute, `$1${frontDoorOrigin}`),
  };
}

type WriteCallback = (error: Error | null | undefined) => void;

/**
 * A response of the front door: `Location` headers and absolute URLs in HTML that point at the
 * https origin are rewritten to the front door, so the browser stays on it. Set-Cookie passes
 * unchanged (browsers keep Secure cookies from http://localhost). Until `rewriteUrls` is
 * called, it is an ordinary response.
 */
export class FrontDoorResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  private rewrite?: Rewrite;
  /** The HTML body, held back until end() so that URLs across chunks are rewritten too. */
  private heldHtml?: Buffer[];
  private ending = false;

  rewriteUrls(httpsOrigin: string, frontDoorOrigin: string): void {
    this.rewrite = rewriteOf(httpsOrigin, frontDoorOrigin);
  }

  override writeHead(
    statusCode: number,
    messageOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const message = typeof messageOrHeaders === 'string' ? messageOrHeaders : undefined;
    let headers = typeof messageOrHeaders === 'string' ? maybeHeaders : messageOrHeaders;
    if (this.rewrite) {
      if (headers && !Array.isArray(headers)) {
        // Into the progressive headers, where Location can be rewritten (raw header arrays,
        // which neither the emulator nor oidc-provider uses, pass as they are).
        for (const [name, value] of Object.entries(headers)) {
          if (value !== undefined) this.setHeader(name, value);
        }
        headers = undefined;
      }
      const location = this.getHeader('location');
      if (typeof location === 'string') this.setHeader('location', this.rewrite.location(location));
      // Rewriting changes the body's length; end() sets it again when it still can.
      if (this.isHtml() && !this.ending) this.removeHeader('content-length');
    }
    return message === undefined
      ? super.writeHead(statusCode, headers)
      : super.writeHead(statusCode, message, headers);
  }

  override write(
    chunk: unknown,
    encodingOrCallback?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    const encoding = typeof encodingOrCallback === 'string' ? encodingOrCallback : undefined;
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (!this.holdsHtml()) {
      return encoding === undefined ? super.write(chunk, done) : super.write(chunk, encoding, done);
    }
    this.heldHtml?.push(toBuffer(chunk, encoding));
    if (done) process.nextTick(done, null);
    return true;
  }

  override end(
    chunkOrCallback?: unknown,
    encodingOrCallback?: BufferEncoding | (() => void),
    callback?: () => void,
  ): this {
    const hasChunk =
      typeof chunkOrCallback !== 'function' &&
      chunkOrCallback !== undefined &&
      chunkOrCallback !== null;
    const encoding = typeof encodingOrCallback === 'string' ? encodingOrCallback : undefined;
    const done = [chunkOrCallback, encodingOrCallback, callback].find(
      (arg): arg is () => void => typeof arg === 'function',
    );
    if (!this.holdsHtml()) {
      if (!hasChunk) return super.end(done);
      return encoding === undefined
        ? super.end(chunkOrCallback, done)
        : super.end(chunkOrCallback, encoding, done);
    }
    const held = this.heldHtml ?? [];
    if (hasChunk) held.push(toBuffer(chunkOrCallback, encoding));
    this.heldHtml = undefined;
    const body = Buffer.from(this.rewrite!.html(Buffer.concat(held).toString('utf8')), 'utf8');
    this.ending = true;
    if (!this.headersSent) this.setHeader('content-length', body.length);
    return super.end(body, done);
  }

  /** Whether this response's body is HTML to rewrite (and so held back until the end). */
  private holdsHtml(): boolean {
    if (!this.rewrite || this.ending || this.req.method === 'HEAD') return false;
    if (this.heldHtml) return true;
    if (!this.isHtml()) return false;
    this.heldHtml = [];
    return true;
  }

  private isHtml(): boolean {
    return /^\s*text\/html\b/i.test(String(this.getHeader('content-type') ?? ''));
  }
}

function toBuffer(chunk: unknown, encoding: BufferEncoding | undefined): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  throw new TypeError('The front door writes strings and buffers only.');
}
