// The function app's settings, deployed after the site and the app registration: AUTH_CLIENT_ID comes from
// the registration, whose redirect URIs come from the site's host name (infra/DEPLOY.md, "Host names").
// One appsettings resource holds every setting (it replaces the whole set on each deployment).
// Everything is identity-based: the runtime's storage, Application Insights, the app's own Table Storage
// client and its Entra credential all use the user-assigned managed identity; no key or secret is set.

@description('Name of the existing function app.')
param functionAppName string

param storageAccountName string
param applicationInsightsName string

@description('Client id of the user-assigned managed identity the app runs as.')
param identityClientId string

@description('Settings of the app itself (AUTH_*, SETTING_NAMES in src/config.ts), merged with the runtime settings below.')
param appSettings object

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Settings of the Functions runtime. Flex Consumption sets the runtime and its version in
// functionAppConfig and rejects FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION app settings.
var runtimeSettings = {
  // AzureWebJobsStorage without a connection string: the runtime's blobs (host locks, the timer
  // trigger's schedule state) through the managed identity.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  // Application Insights with local authentication disabled: telemetry is sent with an Entra token.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, runtimeSettings)
}
