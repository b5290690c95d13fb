// The Entra app registration, through the Microsoft Graph Bicep extension (bicepconfig.json), following
// microsoftgraph/msgraph-bicep-types quickstart-templates/msi-as-a-fic-secretless: a confidential web
// client whose only credential is a federated identity credential trusting the function app's
// user-assigned managed identity. The app gets a managed-identity token for api://AzureADTokenExchange
// and presents it as its client assertion, so no client secret or certificate exists.
// The extension cannot create client secrets, and nothing here asks for one.

extension microsoftGraphV1

@description('Immutable alternate key of the application in the tenant; redeploying with the same value updates the same registration.')
param uniqueName string

param displayName string

@allowed([
  'AzureADMyOrg'
  'AzureADMultipleOrgs'
])
param signInAudience string = 'AzureADMyOrg'

@description('Web redirect URIs: the deployed callback, the post-logout URL, and any extra ones (local development).')
param redirectUris array

@description('Principal (object) id of the user-assigned managed identity the app registration trusts.')
param managedIdentityPrincipalId string

// Microsoft Graph and the delegated permissions the sign-in asks for (the app's DEFAULT_SCOPES in
// src/config.ts). Declaring them lets users consent once, on the first sign-in.
var microsoftGraphAppId = '00000003-0000-0000-c000-000000000000'
var graphDelegatedPermissionIds = {
  openid: '37f7f235-527c-4136-accd-4a02d197296e'
  profile: '14dad69e-099b-42c9-810b-d002981feec1'
  email: '64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0'
  offline_access: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182'
  // The example's /api/profile calls GET /v1.0/me with the user's token (example/src/functions/profile.ts),
  // and group overage reads the user's groups with it (src/auth/groupMembership.ts).
  'User.Read': 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'
}

// Who may do what (example/src/functions/admin.ts, src/auth/authorization.ts). App roles for users (Admin, Reader:
// assigned in Enterprise applications, DEPLOY.md) and one for daemons (Admin.Read.All: an application
// permission granted with admin consent); one delegated scope for users' bearer tokens. Ids are fixed
// per registration so redeploys keep them.
var appRoles = [
  {
    value: 'Admin'
    displayName: 'Admin'
    description: 'Administrators of the app: may open the Admin-only functions.'
    allowedMemberTypes: [
      'User'
    ]
  }
  {
    value: 'Reader'
    displayName: 'Reader'
    description: 'Readers: signed-in users with read access.'
    allowedMemberTypes: [
      'User'
    ]
  }
  {
    value: 'Admin.Read.All'
    displayName: 'Read admin data as an app'
    description: 'Daemons (client credentials) may call the Admin-only API without a user.'
    allowedMemberTypes: [
      'Application'
    ]
  }
]
var apiScope = 'access_as_user'

// The identity running the deployment becomes an owner of what it creates. The Graph extension does not do
// that itself (msgraph-bicep-types issue 154), so a pipeline that holds only Application.ReadWrite.OwnedBy
// could create the registration once and then get 403 on every redeploy. 'append' (the default) keeps owners
// added by hand.
var deployerOwns = {
  relationships: [
    deployer().objectId
  ]
}

// Federated identity credential for a managed identity: audience api://AzureADTokenExchange (public cloud;
// the Graph extension deploys to the public cloud only), issuer this tenant's v2.0 issuer, subject the
// identity's principal id.
var tokenExchangeAudience = 'api://AzureADTokenExchange'
var managedIdentityIssuer = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: signInAudience
  owners: deployerOwns
  // The groups claim the app reads for requireUser({ groups }); past 200 groups Entra sends the overage marker.
  groupMembershipClaims: 'SecurityGroup'
  appRoles: map(appRoles, role => {
    id: guid(uniqueName, 'appRole', role.value)
    value: role.value
    displayName: role.displayName
    description: role.description
    allowedMemberTypes: role.allowedMemberTypes
    isEnabled: true
  })
  api: {
    // v2.0 access tokens: aud is the client id, iss the tenant's v2.0 issuer (src/auth/bearerTokens.ts).
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: guid(uniqueName, 'scope', apiScope)
        value: apiScope
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Call the app\'s API as the signed-in user'
        adminConsentDescription: 'Lets a client app call this app\'s functions as the signed-in user.'
        userConsentDisplayName: 'Call the app\'s API as you'
        userConsentDescription: 'Lets a client app call this app\'s functions as you.'
      }
    ]
  }
  // idtyp tells app-only access tokens (daemons) from users' tokens.
  optionalClaims: {
    accessToken: [
      {
        name: 'idtyp'
        essential: false
      }
    ]
  }
  web: {
    redirectUris: redirectUris
    // Authorization code flow with PKCE only: no tokens from the authorize endpoint.
    implicitGrantSettings: {
      enableAccessTokenIssuance: false
      enableIdTokenIssuance: false
    }
  }
  requiredResourceAccess: [
    {
      resourceAppId: microsoftGraphAppId
      resourceAccess: [
        {
          id: graphDelegatedPermissionIds.openid
          type: 'Scope'
        }
        {
          id: graphDelegatedPermissionIds.profile
          type: 'Scope'
        }
        {
          id: graphDelegatedPermissionIds.email
          type: 'Scope'
        }
        {
          id: graphDelegatedPermissionIds.offline_access
          type: 'Scope'
        }
        {
          id: graphDelegatedPermissionIds['User.Read']
          type: 'Scope'
        }
      ]
    }
  ]

  // A child of the application: its name must be '<application uniqueName>/<credential name>'.
  resource managedIdentityCredential 'federatedIdentityCredentials@v1.0' = {
    name: '${app.uniqueName}/function-app-identity'
    description: 'The function app\'s user-assigned managed identity, used as the client credential instead of a secret'
    audiences: [
      tokenExchangeAudience
    ]
    issuer: managedIdentityIssuer
    subject: managedIdentityPrincipalId
  }
}

// The enterprise application (service principal) users sign in to and consent for.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
  owners: deployerOwns
}

output appId string = app.appId
output objectId string = app.id
output uniqueName string = app.uniqueName
output servicePrincipalId string = servicePrincipal.id
