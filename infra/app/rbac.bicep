// Role assignments: exactly what the function app's identity needs, plus optional access for the
// developer who deployed (azd's AZURE_PRINCIPAL_ID) to work against the same table and telemetry.

param storageAccountName string
param applicationInsightsName string

@description('Principal (object) id of the function app\'s user-assigned identity.')
param managedIdentityPrincipalId string

@description('Object id of the developer (by default whoever deploys: a user, or a pipeline\'s service principal). Empty: no developer access.')
param userPrincipalId string = ''

// Built-in role definition ids
// (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
// Storage Table Data Contributor: read, write and delete entities of the app's table (flow records and
// sessions; the cleanup timer deletes expired ones).
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Storage Blob Data Owner: the Functions runtime's blobs (AzureWebJobsStorage: host locks, timer
// schedule state) and the Flex Consumption deployment container, as in the Functions quickstarts.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Monitoring Metrics Publisher: send telemetry to Application Insights with an Entra token (local
// authentication is disabled).
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'
// Not assigned: Storage Queue Data Contributor (974c5e8b-45b9-4653-ba55-5f855dd0fb88). The app has HTTP
// and timer triggers only and the runtime keeps their state in blobs; a queue trigger or Durable Functions
// would need it, with AzureWebJobsStorage__queueServiceUri in app/api.bicep.

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// --- The function app's managed identity ---

resource identityTableData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, managedIdentityPrincipalId, storageTableDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource identityBlobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, managedIdentityPrincipalId, storageBlobDataOwnerRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource identityMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, managedIdentityPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// --- The deploying developer (optional) ---
// Table data, to inspect flow and session rows or run the app locally against this table; telemetry, to
// send it from a local run. Not the runtime's blobs: nothing a developer does needs them.
// No principalType: the deployer may be a user or a pipeline's service principal, and a wrong type fails the
// assignment; without it Azure looks the principal up (it exists already, so no replication delay applies).

resource userTableData 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(storageAccount.id, userPrincipalId, storageTableDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: userPrincipalId
  }
}

resource userMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(applicationInsights.id, userPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: userPrincipalId
  }
}
