// One storage account for both the app and the Functions runtime:
// - the table service holds the app's single table (flow records and sessions);
// - the blob service holds the container the Flex Consumption plan deploys the app package from, and the
//   runtime's own blobs (host locks, timer trigger schedule state) under AzureWebJobsStorage.
// Shared keys are disabled: every client, the app and the runtime alike, authenticates with Entra ID.

param name string
param location string = resourceGroup().location
param tags object = {}

@description('Blob container for the Flex Consumption deployment package.')
param deploymentContainerName string

@description('The app\'s table (AUTH_TABLE_NAME in src/adapters/tables/tableLayout.ts).')
param tableName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false // Entra ID only: no account keys, no connection strings
    defaultToOAuthAuthentication: true
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: 'Enabled' // no virtual network here: the function app reaches storage publicly
    supportsHttpsTrafficOnly: true
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource tableServices 'tableServices' = {
    name: 'default'

    resource authTable 'tables' = {
      name: tableName
    }
  }
}

output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
// The app's setting is the bare endpoint (primaryEndpoints.table has a trailing slash). With the Standard
// endpoint type (dnsEndpointType above) it is always this, in every cloud.
output tableEndpoint string = 'https://${storage.name}.table.${environment().suffixes.storage}'
