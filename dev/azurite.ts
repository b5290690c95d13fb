import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, spawnReady, type ManagedProcess } from './processes';

/** Azurite from the npm package: Table service only, or every service for Core Tools' timers. */

/** Azurite's scripts, found when needed (an optional peer dependency of the package). */
const azuriteDist = () =>
  path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src');
// Azurite's well-known development account (public, documented; not a secret).
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  tablePort: number;
  /** Blob and queue too (the Functions runtime needs them for timer triggers). */
  allServices?: { blobPort: number; queuePort: number };
  /** Folder for data that survives restarts; in memory when absent. */
  location?: string;
  echo?: boolean;
}

export interface RunningAzurite {
  process: ManagedProcess;
  /** For AUTH_STORAGE_CONNECTION_STRING. */
  tableConnectionString: string;
  /** For AzureWebJobsStorage (only with allServices). */
  connectionString: string;
}

export async function startAzurite(options: AzuriteOptions): Promise<RunningAzurite> {
  const common = ['--skipApiVersionCheck', '--disableTelemetry', '--silent', '--loose'];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    common.push('--location', options.location);
  } else {
    common.push('--inMemoryPersistence');
  }
  const args = options.allServices
    ? [
        path.join(azuriteDist(), 'azurite.js'),
        ...common,
        '--blobHost',
        '127.0.0.1',
        '--blobPort',
        String(options.allServices.blobPort),
        '--queueHost',
        '127.0.0.1',
        '--queuePort',
        String(options.allServices.queuePort),
        '--tableHost',
        '127.0.0.1',
        '--tablePort',
        String(options.tablePort),
      ]
    : [
        path.join(azuriteDist(), 'table', 'main.js'),
        ...common,
        '--tableHost',
        '127.0.0.1',
        '--tablePort',
        String(options.tablePort),
      ];
  const process_ = await spawnReady({
    name: 'azurite',
    command: process.execPath,
    args,
    cwd: PROJECT_ROOT,
    readyPattern: /Table service (is )?successfully (started|listening)/i,
    echo: options.echo,
    // Azurite saves its data on SIGINT; SIGTERM ends it without saving.
    stopSignal: 'SIGINT',
  });
  const account = `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY}`;
  const table = `TableEndpoint=http://127.0.0.1:${options.tablePort}/${DEV_ACCOUNT};`;
  const blobQueue = options.allServices
    ? `BlobEndpoint=http://127.0.0.1:${options.allServices.blobPort}/${DEV_ACCOUNT};QueueEndpoint=http://127.0.0.1:${options.allServices.queuePort}/${DEV_ACCOUNT};`
    : '';
  return {
    process: process_,
    tableConnectionString: `${account};${table}`,
    connectionString: `${account};${blobQueue}${table}`,
  };
}
