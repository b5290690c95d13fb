import { MemoryAuthStore } from '../../../src/adapters/memory/MemoryAuthStore';
import { describeAuthStoreContract } from '../../contract/authStoreContract';

const retention = {
  flowTtlSeconds: 600,
  flowRetentionSeconds: 3600,
  sessionAbsoluteSeconds: 28800,
};
describeAuthStoreContract('MemoryAuthStore', async () => ({
  store: new MemoryAuthStore(retention),
  retention,
}));
