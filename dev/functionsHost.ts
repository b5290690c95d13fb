import { spawnSync } from 'node:child_process';

/** Which host serves the functions: Core Tools when installed, else the project's local host. */
export type HostKind = 'func' | 'local';

export function chooseHost(env: NodeJS.ProcessEnv): HostKind {
  if (env.AUTH_DEV_HOST === 'local') return 'local';
  if (env.AUTH_DEV_HOST === 'func') return 'func';
  const probe = spawnSync('func', ['--version'], {
    stdio: 'ignore',
    shell: process.platform === 'win32',
  });
  return probe.status === 0 ? 'func' : 'local';
}

export const LOCAL_HOST_READY = /^Functions host \((local|func)\) ready on (http:\/\/\S+)/;
