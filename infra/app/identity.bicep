// The function app's user-assigned managed identity. One identity serves three purposes, each granted
// separately: the Functions runtime's own storage and telemetry (app/rbac.bicep), the app's auth table
// (app/rbac.bicep), and the credential the app registration trusts in place of a client secret
// (app/entra.bicep, federated identity credential with this identity's principal id as subject).

param name string
param location string = resourceGroup().location
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output name string = identity.name
output resourceId string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
