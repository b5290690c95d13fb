import { spawnSync } from 'node:child_process';
import { UsageError } from './cli';

/** Which host serves the functions: Core Tools when installed, else the local host (localHost.ts). */
export type HostKind = 'func' | 'local';

export function chooseHost(
  env: NodeJS.ProcessEnv,
  funcInstalled: () => boolean = isFuncInstalled,
): HostKind {
  const wanted = env.AUTH_DEV_HOST;
  if (wanted === 'local') return 'local';
  if (wanted === 'func') {
    if (!funcInstalled()) {
      throw new UsageError(
        'AUTH_DEV_HOST=func, but Azure Functions Core Tools ("func") is not on the PATH: install it, or unset AUTH_DEV_HOST to use the local host.',
      );
    }
    return 'func';
  }
  if (wanted !== undefined && wanted !== '') {
    throw new UsageError(`Unknown AUTH_DEV_HOST "${wanted}": use "local" or "func".`);
  }
  return funcInstalled() ? 'func' : 'local';
}

function isFuncInstalled(): boolean {
  const probe = spawnSync('func', ['--version'], {
    stdio: 'ignore',
    shell: process.platform === 'win32',
  });
  return probe.status === 0;
}

export const LOCAL_HOST_READY = /^Functions host \((local|func)\) ready on (http:\/\/\S+)/;
