import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { freePort, stopAll, type ManagedProcess } from '../../dev/processes';
import { BrowserClient } from '../../test/support/browserClient';
import { startTestAzurite } from '../../test/support/azurite';
import { BENCH_DIR } from './processes';
import { formatProfile, summarizeProfile } from './profileSummary';
import {
  projectRedirectUri,
  ROUTES,
  signIn,
  startEmulator,
  startSystem,
  type Shared,
} from './systems';

/**
 * CPU profiles (`node --cpu-prof`) of this project as `npm run serve` serves it: one process
 * under 200 sign-ins at concurrency 20, another under 3,000 /me at concurrency 50. Prints where
 * the time goes; the .cpuprofile files stay in .local/bench/profiles for Chrome DevTools.
 */

export async function profileProject(progress: (line: string) => void): Promise<string> {
  const dir = path.join(BENCH_DIR, 'profiles');
  rmSync(dir, { recursive: true, force: true });
  const started: ManagedProcess[] = [];
  const out: string[] = [];
  try {
    const azurite = await startTestAzurite();
    started.push(azurite.process);
    const [signInPort, mePort] = await Promise.all([freePort(), freePort()]);
    const emulator = await startEmulator([
      projectRedirectUri(signInPort),
      projectRedirectUri(mePort),
    ]);
    started.push(emulator.process);
    const shared: Shared = {
      emulator,
      storageConnectionString: azurite.tableConnectionString,
      peerSecret: randomBytes(32).toString('base64url'),
    };
    for (const [load, port] of [
      ['sign-ins', signInPort],
      ['me', mePort],
    ] as const) {
      const profileDir = path.join(dir, load);
      mkdirSync(profileDir, { recursive: true });
      const host = await startSystem('serve', shared, {
        port,
        nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
      });
      started.push(host);
      const origin = `http://localhost:${port}`;
      progress(`profiling ${load}`);
      if (load === 'sign-ins') {
        let next = 0;
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            while (next++ < 200) {
              const client = new BrowserClient();
              await signIn(client, 'project', origin).finally(() => client.close());
            }
          }),
        );
      } else {
        const client = new BrowserClient();
        await signIn(client, 'project', origin).finally(() => client.close());
        const cookie = await client.jar.getCookieString(`${origin}${ROUTES.project.me}`);
        const agent = new Agent({ connections: 50 });
        let next = 0;
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            while (next++ < 3_000) {
              const response = await request(`${origin}${ROUTES.project.me}`, {
                headers: { cookie, accept: 'application/json' },
                dispatcher: agent,
              });
              await response.body.text();
            }
          }),
        );
        await agent.close();
      }
      // The profile is written when the process exits.
      await host.stop();
      const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no profile written in ${profileDir}`);
      out.push(formatProfile(`Profile: ${load}`, summarizeProfile(path.join(profileDir, file))));
    }
  } finally {
    await stopAll(started);
  }
  return out.join('\n\n');
}

if (require.main === module) {
  profileProject((line) => console.log(`[bench] ${line}`))
    .then((text) => console.log(`\n${text}`))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    });
}
