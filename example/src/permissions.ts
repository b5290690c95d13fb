/** The permissions the example's functions ask for; infra/app/entra.bicep declares the same. */

/** The app role the demo's Admin-only function requires. */
export const ADMIN_ROLE = 'Admin';
/** The delegated scope of the app's API a user's bearer token must carry. */
export const API_SCOPE = 'access_as_user';
/** The application permission a daemon's app-only token must carry. */
export const DAEMON_ROLE = 'Admin.Read.All';
/** Microsoft Graph's delegated permission for the signed-in user's own profile. */
export const PROFILE_SCOPES = ['User.Read'];

/**
 * The group the demo's members-only function requires: one of the emulator's Nestor Wilke's
 * 250 groups, past the 200 a token carries, so his membership is only known through Graph.
 */
export const MEMBERS_GROUP_ID = 'd5823d4e-0f77-49c2-9b3a-75382a4ce0b7';
