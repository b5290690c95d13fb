import { DEV_TENANT_ID } from '../../dev/emulator/devRegistration';
import { startStack, type Stack } from './stack';

/**
 * The app at the emulator's multi-tenant authority: the usual stack (Azurite, the emulator, one
 * served host) with `AUTH_AUTHORITY=https://localhost:<port>/organizations` and
 * `AUTH_ALLOWED_TENANTS` = the emulator's own tenant (Contoso). Its second tenant, Fabrikam, is
 * not allowed.
 */

export const FABRIKAM_TENANT_ID = '00000000-0000-4000-8000-0000000fab1c';

export type MultiTenantApp = Pick<Stack, 'appOrigin' | 'emulator' | 'stop'>;

export function startMultiTenantApp(): Promise<MultiTenantApp> {
  return startStack({
    settings: (emulator) => ({
      AUTH_AUTHORITY: `${new URL(emulator.authority).origin}/organizations`,
      AUTH_ALLOWED_TENANTS: DEV_TENANT_ID,
    }),
  });
}
