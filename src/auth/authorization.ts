import type { UserClaims } from '../ports/AuthStore';
import { AuthError } from './errors';

/**
 * What a function requires of its caller. Within one kind, any listed value is enough (as
 * `[Authorize(Roles = "A,B")]`); every kind given must be met.
 * - `roles`: app roles (the `roles` claim: assigned to users, or granted to daemons).
 * - `groups`: group object ids (the `groups` claim, or resolved through Graph on overage).
 * - `scopes`: delegated permissions of this app's API (the `scp` claim of a bearer token).
 */
export interface Requirements {
  roles?: readonly string[];
  groups?: readonly string[];
  scopes?: readonly string[];
}

/** What the caller holds, from a session or a validated access token. */
export interface Grants {
  roles: readonly string[];
  groups: readonly string[];
  /** Delegated scopes of a bearer token; undefined for a browser session (no token to scope). */
  scopes?: readonly string[];
  /** The groups claim was replaced by Entra's overage marker and is not known here. */
  groupsUnknown?: boolean;
}

export function grantsOfSession(user: UserClaims): Grants {
  return { roles: user.roles, groups: user.groups, groupsUnknown: user.groupsOverage === true };
}

/** Throws `forbidden` naming the first requirement not met and how to obtain it. */
export function checkRequirements(grants: Grants, required: Requirements): void {
  const roles = required.roles ?? [];
  if (roles.length > 0 && !roles.some((r) => grants.roles.includes(r))) {
    throw forbidden(
      `This needs the app role ${oneOf(roles)}; you have ${listOrNone(grants.roles)}. Ask an administrator to assign you the role in Microsoft Entra ID (Enterprise applications > this app > Users and groups > Add user/group), then sign in again.`,
    );
  }
  const groups = required.groups ?? [];
  if (groups.length > 0 && !groups.some((g) => grants.groups.includes(g))) {
    throw forbidden(
      grants.groupsUnknown
        ? `This needs membership of the group ${oneOf(groups)}, and your group memberships could not be read.`
        : `This needs membership of the group ${oneOf(groups)}. Ask an administrator to add you to it, then sign in again.`,
    );
  }
  const scopes = required.scopes ?? [];
  // A browser session has no token whose scopes could be checked: scopes are for bearer callers.
  if (scopes.length > 0 && grants.scopes && !scopes.some((s) => grants.scopes?.includes(s))) {
    throw forbidden(
      `This needs the delegated scope ${oneOf(scopes)}; the token has ${listOrNone(grants.scopes)}. Request a token for that scope of this app's API.`,
    );
  }
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
