import { CookieJar } from 'tough-cookie';
import { Agent, request as undiciRequest } from 'undici';

/**
 * A browser without a browser, for integration tests: a cookie jar, redirects followed the way
 * browsers follow them, and HTML forms submitted. TLS verification stays on; pass the
 * emulator's certificate as `ca` to trust it.
 *
 * Not a browser: no JavaScript, no SameSite enforcement (every matching cookie is sent), and
 * Origin / Sec-Fetch-* headers only when the caller passes them.
 */

export interface ClientResponse {
  url: string;
  status: number;
  /** Lower-case names; Set-Cookie is an array. */
  headers: Record<string, string | string[]>;
  body: string;
  json<T = unknown>(): T;
  /** The Location header resolved against `url`. */
  location?: string;
}

export interface ClientRequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded; implies POST unless `method` says otherwise. */
  form?: Record<string, string>;
  body?: string;
}

export interface FollowOptions {
  /** Redirects to follow at most (default 20, like browsers). */
  maxHops?: number;
  /** Stop before requesting this URL: `final` is then the redirect that points to it. */
  stopAt?: (url: URL) => boolean;
}

export interface HtmlForm {
  action: string;
  method: string;
  fields: Record<string, string>;
  /** The form's visible text, tags removed and whitespace collapsed. */
  text: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export class BrowserClient {
  readonly jar: CookieJar;
  private readonly dispatcher: Agent;
  private readonly defaultHeaders: Record<string, string>;

  constructor(options: { ca?: string | Buffer; headers?: Record<string, string> } = {}) {
    // Browsers treat http://localhost as secure, so Secure cookies set there are kept and sent.
    this.jar = new CookieJar(undefined, { allowSecureOnLocal: true, prefixSecurity: 'strict' });
    this.dispatcher = new Agent({ connect: options.ca ? { ca: options.ca } : {} });
    this.defaultHeaders = {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) BrowserClient/1.0 (integration tests)',
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      ...options.headers,
    };
  }

  /** One request, no redirects followed; Set-Cookie goes into the jar. */
  async request(url: string, init: ClientRequestInit = {}): Promise<ClientResponse> {
    const method = (
      init.method ?? (init.form || init.body !== undefined ? 'POST' : 'GET')
    ).toUpperCase();
    const headers: Record<string, string> = {
      ...this.defaultHeaders,
      ...lowerCaseKeys(init.headers),
    };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.cookie = cookie;
    let body = init.body;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    }

    const response = await undiciRequest(url, {
      method: method as 'GET',
      headers,
      body,
      dispatcher: this.dispatcher,
    });
    const text = await response.body.text();
    const responseHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) responseHeaders[name.toLowerCase()] = value;
    }
    for (const setCookie of asArray(responseHeaders['set-cookie'])) {
      // Browsers silently drop cookies they refuse; so does the jar with ignoreError.
      await this.jar.setCookie(setCookie, url, { ignoreError: true });
    }
    const location = responseHeaders.location;
    return {
      url,
      status: response.statusCode,
      headers: responseHeaders,
      body: text,
      json: <T>() => JSON.parse(text) as T,
      location: typeof location === 'string' ? new URL(location, url).href : undefined,
    };
  }

  /**
   * Follows redirects like a browser: 303, and 301/302 after a POST, turn into GET without a
   * body; 307/308 repeat the request. `hops` lists every response in order, `final` included.
   * Headers passed in `init` go with the first request only (and with 307/308 repeats).
   */
  async follow(
    url: string,
    init: ClientRequestInit = {},
    options: FollowOptions = {},
  ): Promise<{ final: ClientResponse; hops: ClientResponse[] }> {
    const maxHops = options.maxHops ?? 20;
    const hops: ClientResponse[] = [];
    let nextUrl = url;
    let nextInit = init;
    for (;;) {
      const response = await this.request(nextUrl, nextInit);
      hops.push(response);
      if (!REDIRECT_STATUSES.has(response.status) || !response.location) {
        return { final: response, hops };
      }
      const target = new URL(response.location);
      if (options.stopAt?.(target)) return { final: response, hops };
      if (hops.length > maxHops) {
        throw new Error(
          `More than ${maxHops} redirects, last to ${target.origin}${target.pathname}`,
        );
      }
      const method = (
        nextInit.method ?? (nextInit.form || nextInit.body ? 'POST' : 'GET')
      ).toUpperCase();
      const keepsMethod =
        response.status === 307 ||
        response.status === 308 ||
        (response.status !== 303 && (method === 'GET' || method === 'HEAD'));
      nextInit = keepsMethod && method !== 'GET' ? nextInit : { method: 'GET' };
      nextUrl = target.href;
    }
  }

  /** Finds the first form `match` accepts and submits it with its fields (urlencoded). */
  async submitForm(
    page: ClientResponse,
    match: (form: HtmlForm) => boolean,
    headers?: Record<string, string>,
  ): Promise<ClientResponse> {
    const forms = parseForms(page.body, page.url);
    const form = forms.find(match);
    if (!form) {
      const seen = forms.map(
        (f) => `${f.method} ${f.action} [${Object.keys(f.fields).join(', ')}]`,
      );
      throw new Error(
        `No matching form on ${page.url} (status ${page.status}). Forms: ${seen.join('; ') || 'none'}`,
      );
    }
    if (form.method === 'GET') {
      const target = new URL(form.action);
      target.search = new URLSearchParams(form.fields).toString();
      return this.request(target.href, { headers });
    }
    return this.request(form.action, { method: form.method, form: form.fields, headers });
  }

  /** Closes pooled connections (call in afterAll). */
  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** Submits the test user's form on the emulator's login page. */
export async function pickEmulatorUser(
  client: BrowserClient,
  loginPage: ClientResponse,
  username: string,
): Promise<ClientResponse> {
  const wanted = username.toLowerCase();
  return client.submitForm(loginPage, (form) => form.fields.username?.toLowerCase() === wanted);
}

/** Regex-based, enough for the pages these tests meet (the emulator's and the app's own). */
export function parseForms(html: string, baseUrl: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const [, attributes = '', inner = ''] of html.matchAll(
    /<form\b([^>]*)>([\s\S]*?)<\/form>/gi,
  )) {
    const formAttributes = parseAttributes(attributes);
    const fields: Record<string, string> = {};
    for (const [, inputAttributes = ''] of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const input = parseAttributes(inputAttributes);
      const type = (input.type ?? 'text').toLowerCase();
      if (!input.name || input.disabled !== undefined) continue;
      if (type === 'submit' || type === 'button' || type === 'image' || type === 'file') continue;
      if ((type === 'checkbox' || type === 'radio') && input.checked === undefined) continue;
      fields[input.name] = input.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : '');
    }
    forms.push({
      action: new URL(formAttributes.action || baseUrl, baseUrl).href,
      method: (formAttributes.method ?? 'GET').toUpperCase(),
      fields,
      text: decodeEntities(inner.replace(/<[^>]*>/g, ' '))
        .replace(/\s+/g, ' ')
        .trim(),
    });
  }
  return forms;
}

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [, name = '', doubleQuoted, singleQuoted, bare] of source.matchAll(
    /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g,
  )) {
    attributes[name.toLowerCase()] = decodeEntities(doubleQuoted ?? singleQuoted ?? bare ?? '');
  }
  return attributes;
}

function decodeEntities(text: string): string {
  const named: Record<string, string> = {
    amp: '&',
    lt: '<',
    gt: '>',
    quot: '"',
    apos: "'",
    nbsp: ' ',
  };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, code: string) => {
    if (code[0] === '#') {
      const value =
        code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : Number(code.slice(1));
      return Number.isFinite(value) ? String.fromCodePoint(value) : entity;
    }
    return named[code.toLowerCase()] ?? entity;
  });
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function asArray(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
