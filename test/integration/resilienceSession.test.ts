import { browserPool, me, signIn } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';

/** The shortest idle timeout the settings accept, through the real parts. */

const IDLE_SECONDS = 10;
let stack: Stack;
const browsers = browserPool();

beforeAll(async () => {
  stack = await startStack({ settings: { AUTH_SESSION_IDLE_SECONDS: String(IDLE_SECONDS) } });
});
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
});

it('when the idle timeout is short and the session is in use, then it slides and never reaches the idle time', async () => {
  const client = browsers.open();
  expect((await signIn(client, stack.appOrigin)).status).toBe(302);
  const started = Date.now();
  const statuses: number[] = [];
  // Use the session every 2 s for 1.6 idle timeouts (before, it slid at most every 30 s).
  while (Date.now() - started < IDLE_SECONDS * 1600) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    statuses.push((await me(client, stack.appOrigin)).status);
  }
  expect(statuses.length).toBeGreaterThanOrEqual(5);
  expect(statuses.every((status) => status === 200)).toBe(true);
});
