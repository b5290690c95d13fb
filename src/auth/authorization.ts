import type { UserClaims } from '../ports/AuthStore';
import type { BearerCaller } from './bearerTokens';
import { AuthError } from './errors';

/**
 * What a function requires of its caller. Within one kind, any listed value is enough (as
 * `[Authorize(Roles = "A,B")]`); every kind that applies to the caller must be met.
 * - `roles`: the user's app roles (the `roles` claim), for browser sessions and user tokens.
 * - `groups`: group object ids (the `groups` claim, or resolved through Graph on overage).
 * - `scopes`: delegated scopes of this app's API (`scp`): a user's bearer token is accepted only
 *   by a function that lists them (Entra's rule for APIs: check scp or roles).
 * - `appRoles`: app permissions of a daemon's app-only token (its `roles`): such a token is
 *   accepted only by a function that lists them; it has no user, so `roles`/`groups` do not apply.
 *
 * A browser session holds neither scopes nor app permissions, so a function that names only
 * `scopes` and/or `appRoles` is an API for bearer callers: a session gets `forbidden`, never a
 * pass for want of anything to check (as Microsoft.Identity.Web's RequiredScope refuses a
 * principal without `scp`). To let sessions in as well, name the `roles` or `groups` they need.
 */
export interface Requirements {
  roles?: readonly string[];
  groups?: readonly string[];
  scopes?: readonly string[];
  appRoles?: readonly string[];
}

/** What the caller holds, from a session or a validated access token. */
export interface Grants {
  caller: 'session' | 'delegated' | 'app';
  roles: readonly string[];
  groups: readonly string[];
  scopes: readonly string[];
  /** The groups claim was replaced by Entra's overage marker and is not known here. */
  groupsUnknown?: boolean;
}

export function grantsOfSession(user: UserClaims): Grants {
  return {
    caller: 'session',
    roles: user.roles,
    groups: user.groups,
    scopes: [],
    groupsUnknown: user.groupsOverage === true,
  };
}

export function grantsOfBearer(caller: BearerCaller): Grants {
  return {
    caller: caller.kind,
    roles: caller.user.roles,
    groups: caller.user.groups,
    scopes: caller.scopes,
    groupsUnknown: caller.user.groupsOverage === true,
  };
}

/** Throws `forbidden` naming the first requirement not met and how to obtain it. */
export function checkRequirements(grants: Grants, required: Requirements): void {
  if (grants.caller === 'app') {
    const appRoles = required.appRoles ?? [];
    if (appRoles.length === 0) {
      throw forbidden('This function does not accept app-only (daemon) tokens.');
    }
    if (!appRoles.some((r) => grants.roles.includes(r))) {
      throw forbidden(
        `This needs the application permission ${oneOf(appRoles)}; the token has ${listOrNone(grants.roles)}. An administrator grants it to the calling app (API permissions > Add a permission > My APIs > Application permissions, then Grant admin consent).`,
      );
    }
    return;
  }
  if (grants.caller === 'session' && !acceptsSessions(required)) {
    throw forbidden(
      `This is an API for bearer tokens: it needs ${bearerNeeds(required)}, which a browser session does not carry. Call it with an access token of this app's API in the Authorization header.`,
    );
  }
  if (grants.caller === 'delegated') {
    const scopes = required.scopes ?? [];
    if (scopes.length === 0) {
      throw forbidden('This function does not accept bearer tokens of users (it lists no scopes).');
    }
    if (!scopes.some((s) => grants.scopes.includes(s))) {
      throw forbidden(
        `This needs the delegated scope ${oneOf(scopes)}; the token has ${listOrNone(grants.scopes)}. Request a token for that scope of this app's API (api://<client id>/<scope>).`,
      );
    }
  }
  const roles = required.roles ?? [];
  if (roles.length > 0 && !roles.some((r) => grants.roles.includes(r))) {
    throw forbidden(
      `This needs the app role ${oneOf(roles)}; you have ${listOrNone(grants.roles)}. Ask an administrator to assign you the role in Microsoft Entra ID (Enterprise applications > this app > Users and groups > Add user/group), then sign in again.`,
    );
  }
  const groups = required.groups ?? [];
  if (groups.length > 0 && !groups.some((g) => grants.groups.includes(g))) {
    // Unknown is not "not a member": a session's overage is resolved before this check
    // (requireUser); a bearer token's would need on-behalf-of, which this library does not do.
    if (grants.groupsUnknown) {
      const details = `This needs membership of the group ${oneOf(groups)}, and the token carries Entra's group overage marker instead of groups; groups of bearer callers are not looked up in Microsoft Graph (that needs the on-behalf-of flow). Check app roles instead, or call with a token of a user in fewer groups.`;
      throw new AuthError('groups_unavailable', 'groups unknown (overage) for this caller', {
        details,
        status: 403,
      });
    }
    throw forbidden(
      `This needs membership of the group ${oneOf(groups)}. Ask an administrator to add you to it, then sign in again.`,
    );
  }
}

/** Whether a function takes bearer tokens at all: it names what such a token must carry. */
export function acceptsBearer(required: Requirements): boolean {
  return Boolean(required.scopes?.length || required.appRoles?.length);
}

/** Whether a browser session can meet the requirements: none, or roles or groups among them. */
export function acceptsSessions(required: Requirements): boolean {
  return Boolean(!acceptsBearer(required) || required.roles?.length || required.groups?.length);
}

function bearerNeeds(required: Requirements): string {
  const needs: string[] = [];
  if (required.scopes?.length) needs.push(`the delegated scope ${oneOf(required.scopes)}`);
  if (required.appRoles?.length) {
    needs.push(`the application permission ${oneOf(required.appRoles)}`);
  }
  return needs.join(' or ');
}

function forbidden(details: string): AuthError {
  return new AuthError('forbidden', details, { details });
}

function oneOf(values: readonly string[]): string {
  const quoted = values.map((v) => `"${v}"`);
  return quoted.length === 1 ? (quoted[0] as string) : `one of ${quoted.join(', ')}`;
}

function listOrNone(values: readonly string[]): string {
  return values.length === 0 ? 'none' : values.map((v) => `"${v}"`).join(', ');
}
