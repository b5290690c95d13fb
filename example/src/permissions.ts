/** The permissions the example's functions ask for; infra/app/entra.bicep declares the same. */

/** The app role the demo's Admin-only function requires. */
export const ADMIN_ROLE = 'Admin';
/** The delegated scope of the app's API a user's bearer token must carry. */
export const API_SCOPE = 'access_as_user';
/** The application permission a daemon's app-only token must carry. */
export const DAEMON_ROLE = 'Admin.Read.All';
/** Microsoft Graph's delegated permission for the signed-in user's own profile. */
export const PROFILE_SCOPES = ['User.Read'];
