import { readLimitedText } from './requestBody';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Interaction, Provider } from 'oidc-provider';
import { loginPage, messagePage, type LoginHint } from './pages';
import { loginHintFor, type TestUser } from './users';

/** Entra's answer when the user cancels sign-in, so apps can exercise their idp_error path. */
const USER_CANCELLED = {
  error: 'access_denied',
  error_description: 'AADSTS65004: User declined to consent to access the app.',
};
const MAX_FORM_BYTES = 16 * 1024;

/** The login page (pick a test user) and automatic consent, as oidc-provider interactions. */
export class InteractionHandler {
  constructor(
    private readonly provider: Provider,
    private readonly users: TestUser[],
    private readonly tenantId: string,
  ) {}

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    uid: string,
    cancel: boolean,
  ): Promise<void> {
    // Throws when the interaction cookie is missing or the interaction expired.
    const interaction = await this.provider.interactionDetails(req, res).catch(() => undefined);
    if (!interaction || interaction.uid !== uid) {
      return sendHtml(
        res,
        400,
        messagePage(
          'Sign-in expired',
          'This sign-in page is no longer valid (expired, already used, or its cookie is ' +
            'missing). Go back to the app and sign in again.',
        ),
      );
    }
    const action = `/${this.tenantId}/login/${uid}`;

    if (req.method === 'GET' && !cancel) {
      const accountId = interaction.session?.accountId;
      // Already signed in and only consent is missing: Entra's admin-consented apps skip the
      // consent screen, so grant it silently.
      if (interaction.prompt.name === 'consent' && accountId) {
        const grantId = await this.grantFor(interaction, accountId);
        return this.provider.interactionFinished(req, res, { consent: { grantId } });
      }
      return sendHtml(res, 200, loginPage(this.users, action, this.hintOf(interaction)));
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    if (cancel) {
      return this.provider.interactionFinished(req, res, USER_CANCELLED, {
        mergeWithLastSubmission: false,
      });
    }

    const username = (await readForm(req)).get('username')?.trim().toLowerCase();
    const user = this.users.find((u) => u.preferred_username.toLowerCase() === username);
    if (!user) {
      return sendHtml(res, 400, loginPage(this.users, action, this.hintOf(interaction), true));
    }
    const grantId = await this.grantFor(interaction, user.oid);
    return this.provider.interactionFinished(
      req,
      res,
      {
        select_account: {},
        login: { accountId: user.oid, amr: ['pwd'], remember: false },
        consent: { grantId },
      },
      { mergeWithLastSubmission: false },
    );
  }

  /** Consent is implied: grant every scope and claim the client asked for. */
  private async grantFor(interaction: Interaction, accountId: string): Promise<string> {
    const { Grant } = this.provider;
    const existing =
      interaction.grantId && interaction.session?.accountId === accountId
        ? await Grant.find(interaction.grantId)
        : undefined;
    const grant = existing ?? new Grant({ accountId, clientId: interaction.params.client_id });
    if (interaction.params.scope) grant.addOIDCScope(interaction.params.scope);
    const missingClaims = interaction.prompt.details.missingOIDCClaims;
    if (Array.isArray(missingClaims)) grant.addOIDCClaims(missingClaims as string[]);
    return grant.save();
  }

  private hintOf(interaction: Interaction): LoginHint | undefined {
    const hint = interaction.params.login_hint;
    if (typeof hint !== 'string' || !hint) return undefined;
    const normalized = hint.trim().toLowerCase();
    const user = this.users.find(
      (u) =>
        u.preferred_username.toLowerCase() === normalized ||
        u.email.toLowerCase() === normalized ||
        loginHintFor(u, this.tenantId) === hint,
    );
    return { value: hint, username: user?.preferred_username };
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readLimitedText(req, MAX_FORM_BYTES, 'form too large'));
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    })
    .end(html);
}
