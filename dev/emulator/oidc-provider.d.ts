/**
 * The part of oidc-provider 9 the emulator uses. The package ships no types and
 * @types/oidc-provider is not a dependency; keep this to what dev/emulator calls.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AnyObject = Record<string, unknown>;

  export interface CookieOptions {
    httpOnly?: boolean;
    sameSite?: 'lax' | 'strict' | 'none';
    signed?: boolean;
    path?: string;
    secure?: boolean;
    overwrite?: boolean;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string, claims: AnyObject, rejected: string[]): Promise<AnyObject>;
  }

  export interface Client {
    readonly clientId: string;
    postLogoutRedirectUriAllowed(uri: string): boolean;
  }

  export interface Session {
    accountId?: string;
    state?: AnyObject & { postLogoutRedirectUri?: string; state?: string; clientId?: string };
    destroy(): Promise<void>;
  }

  export interface Interaction {
    readonly uid: string;
    readonly prompt: { name: string; reasons: string[]; details: AnyObject };
    readonly params: AnyObject & { client_id: string; scope?: string; login_hint?: string };
    readonly session?: { accountId?: string; uid: string };
    readonly grantId?: string;
    readonly returnTo: string;
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export interface OIDCContext {
    readonly route?: string;
    readonly params: AnyObject;
    readonly session?: Session;
    readonly client?: Client;
    readonly entities: { Account?: Account; Client?: Client } & AnyObject;
    urlFor(name: string, options?: AnyObject): string;
  }

  /** The Koa context oidc-provider passes to its hooks and middleware. */
  export interface KoaContext {
    readonly oidc?: OIDCContext;
    readonly req: IncomingMessage;
    readonly method: string;
    readonly path: string;
    /** The parsed query string (koa). */
    readonly query: Readonly<Record<string, string | string[] | undefined>>;
    status: number;
    body: unknown;
    type: string;
    set(name: string, value: string): void;
    redirect(url: string): void;
    readonly response: { get(name: string): string };
    readonly cookies: { set(name: string, value: string | null, options?: CookieOptions): void };
  }

  export type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  export type InteractionResult = AnyObject;

  export interface ClientMetadata {
    client_id: string;
    client_secret: string;
    redirect_uris: string[];
    post_logout_redirect_uris: string[];
    response_types?: string[];
    grant_types?: string[];
    token_endpoint_auth_method?: string;
    id_token_signed_response_alg?: string;
    subject_type?: 'public' | 'pairwise';
    sector_identifier_uri?: string;
    [key: string]: unknown;
  }

  export interface Configuration {
    [key: string]: unknown;
    clients?: ClientMetadata[];
    findAccount?: (
      ctx: KoaContext,
      id: string,
      token?: unknown,
    ) => Promise<Account | undefined> | Account | undefined;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    readonly Grant: GrantConstructor;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: Middleware): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    cookieName(type: 'session' | 'interaction' | 'resume'): string;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResult,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }

  export namespace interactionPolicy {
    class Prompt {
      constructor(options: { name: string; requestable?: boolean }, ...checks: unknown[]);
      readonly name: string;
    }
    interface Policy extends Array<Prompt> {
      add(prompt: Prompt, index?: number): void;
      get(name: string): Prompt | undefined;
    }
    function base(): Policy;
  }

  export default Provider;
}
