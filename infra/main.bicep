targetScope = 'subscription'

// `azd up` entry point: a resource group holding a Flex Consumption function app, its storage (the
// auth table and the runtime's deployment container), a user-assigned managed identity, monitoring,
// and, through the Microsoft Graph Bicep extension (app/entra.bicep), the Entra app registration that
// trusts the managed identity as a federated credential. No client secret is created anywhere.
// Layout and conventions follow Azure-Samples/functions-quickstart-typescript-azd.

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to derive a short unique token for resource names.')
param environmentName string

@minLength(1)
@description('Primary location for all resources: a region where the Flex Consumption plan is available.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'eastus2euap'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the developer to give data access to the auth table and telemetry, for work against the deployed resources. Defaults to whoever deploys, as the azd quickstarts do; empty skips it.')
param principalId string = deployer().objectId

@description('Default host name of the function app: unique (<name>-<hash>.<region>.azurewebsites.net, which only this resource group can get again) or classic (<name>.azurewebsites.net). Fixed when the site is created; see infra/DEPLOY.md.')
@allowed([
  'unique'
  'classic'
])
param hostNameKind string = 'unique'

@description('Who may sign in: AzureADMyOrg (this tenant only) or AzureADMultipleOrgs (any Entra tenant listed in allowedTenants).')
@allowed([
  'AzureADMyOrg'
  'AzureADMultipleOrgs'
])
param signInAudience string = 'AzureADMyOrg'

@description('Comma-separated tenant ids allowed to sign in (AUTH_ALLOWED_TENANTS). Required with AzureADMultipleOrgs; when empty, a single-tenant app allows its own tenant.')
param allowedTenants string = ''

@description('Comma-separated extra redirect URIs for the app registration, for example http://localhost:7071/api/auth/callback,http://localhost:7071/ to sign in locally against this tenant.')
param extraRedirectUris string = ''

@description('Display name of the app registration. Empty: derived from the environment name.')
param appDisplayName string = ''

// Optional name overrides; empty means a name derived from the environment, as in the azd quickstarts.
param resourceGroupName string = ''
param apiServiceName string = ''
param apiUserAssignedIdentityName string = ''
param appServicePlanName string = ''
param storageAccountName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

var functionAppName = !empty(apiServiceName) ? apiServiceName : '${abbrs.webSitesFunctions}api-${resourceToken}'
// The blob container the Flex Consumption plan deploys the app package from.
var deploymentStorageContainerName = 'app-package-${take(toLower(functionAppName), 32)}-${take(toLower(uniqueString(functionAppName, resourceToken)), 7)}'

// The app's single table, AUTH_TABLE_NAME in src/adapters/tables/tableLayout.ts: flow records and sessions.
var authTableName = 'AuthState'

// Paths of the routes the app registers (src/routes.ts, under host.json's routePrefix).
// test/infra checks that these strings agree with the code.
var callbackPath = '/api/auth/callback'
var loginPath = '/api/auth/login'
var demoPath = '/api/demo'

// The redirect URIs are built from the host name the deployed site reports (secure unique host names are
// not known before the site exists): the site is created first, then the app registration, then the
// settings that need the registration's client id (app/appSettings.bicep).
var appOrigin = 'https://${api.outputs.defaultHostName}'
var redirectUri = '${appOrigin}${callbackPath}'
// Where Entra sends the browser after sign-out: the demo page, which shows "signed out" (the site's root
// is only the Functions runtime's placeholder page). Entra's v2.0 end-session endpoint expects
// post_logout_redirect_uri to match a redirect URI registered for the app, so it is registered next to
// the callback.
var postLogoutRedirectUri = '${appOrigin}${demoPath}'
var extraRedirectUriList = filter(map(split(extraRedirectUris, ','), uri => trim(uri)), uri => !empty(uri))

// The authority's tenant segment: this tenant, or 'organizations' for any Entra tenant (the app then
// requires AUTH_ALLOWED_TENANTS and refuses to start without it).
var authTenant = signInAudience == 'AzureADMyOrg' ? tenant().tenantId : 'organizations'
var allowedTenantSettings = empty(trim(allowedTenants)) ? {} : { AUTH_ALLOWED_TENANTS: trim(allowedTenants) }

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

// The function app's identity: storage and telemetry access (app/rbac.bicep), and the credential the app
// registration trusts instead of a client secret (app/entra.bicep).
module identity './app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: !empty(apiUserAssignedIdentityName) ? apiUserAssignedIdentityName : '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring './app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: !empty(storageAccountName) ? storageAccountName : '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentStorageContainerName
    tableName: authTableName
  }
}

module entra './app/entra.bicep' = {
  name: 'entra'
  scope: rg
  params: {
    uniqueName: 'entra-signin-${resourceToken}'
    displayName: !empty(appDisplayName) ? appDisplayName : 'Entra sign-in (${environmentName})'
    signInAudience: signInAudience
    redirectUris: union([redirectUri, postLogoutRedirectUri], extraRedirectUriList)
    managedIdentityPrincipalId: identity.outputs.principalId
  }
}

module api './app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    appServicePlanName: !empty(appServicePlanName) ? appServicePlanName : '${abbrs.webServerFarms}${resourceToken}'
    storageAccountName: storage.outputs.name
    deploymentStorageContainerName: deploymentStorageContainerName
    identityId: identity.outputs.resourceId
    runtimeName: 'node'
    runtimeVersion: '22'
    hostNameKind: hostNameKind
  }
}

module appSettings './app/appSettings.bicep' = {
  name: 'appSettings'
  scope: rg
  params: {
    functionAppName: api.outputs.name
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    identityClientId: identity.outputs.clientId
    // The settings the app reads (README "Settings", SETTING_NAMES in src/config.ts). The credential is the
    // managed identity (msal-node clientAssertion with a token for api://AzureADTokenExchange, and the
    // Table Storage client): no client secret, no storage connection string.
    appSettings: union(
      {
        AUTH_CLIENT_ID: entra.outputs.appId
        AUTH_TENANT_ID: authTenant
        AUTH_MANAGED_IDENTITY_CLIENT_ID: identity.outputs.clientId
        AUTH_STORAGE_TABLE_ENDPOINT: storage.outputs.tableEndpoint
        AUTH_REDIRECT_URI: redirectUri
        AUTH_POST_LOGOUT_REDIRECT_URI: postLogoutRedirectUri
        // A sign-in without a return URL lands on the demo (nothing is served at /).
        AUTH_DEFAULT_RETURN_TO: demoPath
      },
      allowedTenantSettings
    )
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    managedIdentityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
  }
}

// Outputs: azd stores them in the environment (.azure/<env>/.env); the README refers to them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.applicationInsightsConnectionString
output AUTH_CLIENT_ID string = entra.outputs.appId
output AUTH_REDIRECT_URI string = redirectUri
output AUTH_LOGIN_URL string = '${appOrigin}${loginPath}'
output AUTH_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AUTH_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output DEMO_URL string = '${appOrigin}${demoPath}'
output ENTRA_APP_UNIQUE_NAME string = entra.outputs.uniqueName
output ENTRA_APP_OBJECT_ID string = entra.outputs.objectId
