// `npm start` as a newcomer runs it: the real serverless-offline (esbuild bundles, HTTP API, Lambda invoke
// endpoint), the exchange emulator and the Secrets Manager endpoint, driven through `node scripts/start.ts` in
// a child process. What the demo claims is checked from outside: the processes and ports it used are gone.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { anyFreePort, portIsFree } from '../../scripts/local/ports.ts';
import { readDoc } from '../support/docs.ts';
import {
  childEnv,
  type Finished,
  freePortArgs,
  groupExists,
  killRecordedOffline,
  ROOT,
  runScript,
  startScript,
} from '../support/local-run.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'bybit-cancel-start-'));
const stateFile = join(dir, 'stack.json');
/** Generous: serverless-offline with esbuild starts in ~3 s here; a loaded CI machine may take far longer. */
const RUN_TIMEOUT_MS = 120_000;

afterAll(() => {
  killRecordedOffline(stateFile);
  rmSync(dir, { recursive: true, force: true });
});

/** What a finished run leaves for an outside check: serverless-offline's process group and the ports. */
function leftovers(result: Finished, pid: number | undefined) {
  const group = Number(/serverless-offline's group (\d+)/.exec(result.stdout)?.[1]);
  const ports = (/ports ([\d, ]+) free/.exec(result.stdout)?.[1] ?? '').split(', ').map(Number);
  return { group, ports, serviceDir: join(ROOT, '.local', `offline-${pid}`) };
}

async function expectNothingLeft(result: Finished, pid: number | undefined) {
  const { group, ports, serviceDir } = leftovers(result, pid);
  expect(group).toBeGreaterThan(0);
  expect(groupExists(group)).toBe(false);
  // HTTP API, Lambda invoke, emulator, Secrets Manager, Scheduler, DynamoDB, SNS, Telegram, EventBridge.
  expect(ports).toHaveLength(9);
  for (const port of ports) expect(await portIsFree(port)).toBe(true);
  expect(existsSync(serviceDir)).toBe(false);
  expect(existsSync(stateFile)).toBe(false);
}

describe('npm start --once', () => {
  it(
    'shows every step, ends with zero open orders, and leaves nothing running, twice in a row on the same ports',
    async () => {
      const { http: httpPort, args } = await freePortArgs();
      const ports = [...args, '--state', stateFile];
      // The second run relies on CI=true instead of --once, the way CI runs it.
      for (const [args, env] of [
        [['--once', ...ports], childEnv()],
        [ports, childEnv({ CI: 'true' })],
      ] as const) {
        const child = startScript('start', [...args], env);
        const timer = setTimeout(() => child.child.kill('SIGKILL'), RUN_TIMEOUT_MS);
        const result = await child.finished;
        clearTimeout(timer);

        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        for (const step of [
          '[1/8] Signed webhook cancel: POST /cancel',
          '→ 401 x-signature does not match',
          '→ 200 Cancelled (confirmed)',
          '[2/8] Scoped cancel-all: POST /cancel-all',
          '[3/8] Stale-order sweep',
          '[4/8] Kill-switch drill: the drill function, invoked with {"drill":true}',
          '✘ hedge: the key expires in 10 day(s)',
          'emulator: 0 POST requests during the drill',
          'message on the reports topic (and 1 Telegram message(s)):',
          '│ Kill-switch drill FAILED: 1 problem on hedge (local)',
          '[5/8] Kill switch',
          'emulator: 0 open orders',
          '│ Fired by: an EventBridge kill-switch event',
          '│ Log group: /aws/lambda/bybit-cancel-local-cancelAll',
          "[6/8] Dead man's switch: a bot sends POST /heartbeat",
          'Scheduler calls: UpdateSchedule 404, CreateSchedule 200, UpdateSchedule 200',
          '→ fired bybit-cancel-local-dead-mans-switch; the kill switch (origin deadMansSwitch) cancelled',
          "reason: dead man's switch: no heartbeat since",
          'emulator: 0 open orders; the schedule deleted itself',
          '│ Fired by: the dead man’s switch (no heartbeat in time)',
          // Every kill switch halts what it covers, and says how to reset; the demo resets each.
          '│ Halted (trading stays stopped until a person resets it):',
          '│ To reset, once you know why: npm run kill-switch -- --reset --stage local',
          '│ Halt reset: grid, hedge, main - 1 key made read-write again (local)',
          '[7/8] Runaway bot: a bot on grid (a sub-account) trades with a key of its own',
          '→ 20 orders placed; 20 open on grid',
          '→ cancelled 20, remaining 0, ok true',
          'emulator: 0 open orders on grid',
          "the bot's next order → refused, retCode 10005 (its key is read-only now)",
          'its heartbeat POST /heartbeat {"ttlSeconds":300,"accounts":["grid"]} → 423 halted true, since ',
          'reason: runaway bot on grid',
          '│ Halt reset: grid - 1 key made read-write again (local)',
          "the bot's next order → placed: its key is read-write again",
          // The kill switch from a phone: a command, a confirmation, the report in the chat; then the reset.
          '[8/8] Telegram: Dana sends /status and /kill in the demo chat, presses Kill now, then /reset and Reset now',
          '│ local: needs attention\n      │ Halt: none\n',
          '│ Fire the kill switch on local?',
          '│ [Kill now] [Cancel]',
          ', while the kill switch runs on cancelAll',
          '│ Kill switch FIRED on local\n      │ by Dana (@demo_trader, id 5550001) at ',
          '│ Fired by: Telegram (/kill, confirmed with Kill now)',
          '│ Reason: Telegram /kill by Dana (@demo_trader, id 5550001): demo from Telegram',
          '│ - grid: 1 key made read-only (demo…',
          '│ Reset the halt on local?\n      │ Accounts: every halted account\n',
          '│ [Reset now] [Cancel]',
          '│ Reset on local: done\n      │ by Dana (@demo_trader, id 5550001). reset 3 account(s): 1 key(s) made read-write again\n',
          '│ - grid: 1 key(s) restored, halt cleared',
        ]) {
          expect(result.stdout).toContain(step);
        }
        // The three kill switches (the event's, the dead man's switch's and Telegram's) each reached a person as
        // all clear; Telegram's in the chat, after the answer to Kill now.
        const subjects = result.stdout.match(
          /^ {6}│ Kill switch: all clear - 3 accounts, [1-9]\d* orders, [\d.]+ s \(local\)$/gm,
        );
        expect(subjects).toHaveLength(3);
        expect(result.stdout).toMatch(
          /^ {6}the report, \d+ ms after the answer to Kill now:\n {6}│ Kill switch: all clear - 3 accounts/m,
        );
        // The halt of the bot's key and its reset, named by the masked key only.
        expect(result.stdout).toMatch(/^ {6}halted: grid, 1 key\(s\) made read-only \(demo…[0-9a-f]{2}\)$/m);
        expect(result.stdout).toMatch(
          /^ {6}→ grid no longer halted; 1 key\(s\) made read-write again \(demo…[0-9a-f]{2}\)$/m,
        );
        // The account: eight steps, each ✔, the kill switches leaving 0 open (the bot's one order after its reset
        // is cancelled by Telegram's).
        const table = result.stdout.match(/^ {2}\d \S.*$/gm) ?? [];
        expect(table).toHaveLength(8);
        expect(table.every((row) => row.endsWith('✔'))).toBe(true);
        expect(table[3]).toMatch(/^ {2}4 kill-switch drill\s+0\s+[1-9]\d*\s+✔$/);
        expect(table[4]).toMatch(/^ {2}5 kill switch\s+[1-9]\d*\s+0\s+✔$/);
        expect(table[5]).toMatch(/^ {2}6 dead man's switch\s+[1-9]\d*\s+0\s+✔$/);
        expect(table[6]).toMatch(/^ {2}7 runaway bot halted\s+20\s+0\s+✔$/);
        expect(table[7]).toMatch(/^ {2}8 telegram kill switch\s+[1-9]\d*\s+0\s+✔$/);
        expect(result.stdout).toContain(
          '✔ All clear: 0 orders left open after each kill switch, and the runaway bot stopped until its reset.',
        );
        // The closing table the README and docs/getting-started/local.md show is this run's, number for number.
        for (const page of ['README.md', 'docs/getting-started/local.md']) {
          expect(readDoc(page).match(/^ {2}\d \S.*$/gm), page).toEqual(table);
        }
        expect(result.stdout).toContain(`http://127.0.0.1:${httpPort}`);
        await expectNothingLeft(result, child.child.pid);
      }
    },
    2 * RUN_TIMEOUT_MS,
  );
});

describe('npm start', () => {
  it(
    'stays up until Ctrl-C, the printed curl command cancels an order, and Ctrl-C stops everything',
    async () => {
      const child = startScript('start', ['--state', stateFile]);
      try {
        await child.waitFor(/Run the stale-order sweep/, RUN_TIMEOUT_MS);
        const curl = child
          .stdout()
          .split('\n')
          .find((line) => /^ {2}curl .*\/cancel' /.test(line));
        expect(curl).toBeDefined();
        // Exactly as printed; only the status code is asked for on top.
        const sent = await run('bash', ['-c', `${(curl as string).trim()} -w '\\n%{http_code}'`], {
          cwd: ROOT,
          timeout: 30_000,
        });
        const [body, status] = sent.stdout.split('\n');
        expect(status).toBe('200');
        expect(JSON.parse(body as string)).toMatchObject({
          orderLinkId: 'tv-btc-long-1',
          orderStatus: 'Cancelled',
          confirmed: true,
        });
        // The running stack is where npm run sign and kill-switch find it.
        const state = JSON.parse(readFileSync(stateFile, 'utf8'));
        expect(state).toMatchObject({ pid: child.child.pid, stage: 'local' });
        expect(groupExists(state.offlinePid)).toBe(true);
        // A dead man's switch armed by hand (npm run sign picks /heartbeat for the body): when it fires, the
        // terminal says so, with what the kill switch did.
        const sign = await runScript('sign', ['{"ttlSeconds":120}', '--state', stateFile], 30_000);
        const arm = sign.stdout.split('\n').find((line) => line.startsWith('curl '));
        expect(arm).toContain('/heartbeat');
        const armed = await run('bash', ['-c', arm as string], { cwd: ROOT, timeout: 30_000 });
        expect(JSON.parse(armed.stdout)).toMatchObject({ operation: 'heartbeat', armed: true });
        const [notice] = await child.waitFor(/^.*The dead man's switch fired.*$/m, 60_000);
        expect(notice).toMatch(
          /^\d{4}-\d\d-\d\dT[\d:.]+Z The dead man's switch fired \(bybit-cancel-local-dead-mans-switch, no heartbeat in time\): the kill switch cancelled [1-9]\d*, remaining 0, ok true\. The emulator holds 0 open orders/,
        );
        // It halted every account: the reset the try-it text prints ends it (--yes: no terminal here).
        const reset = await runScript(
          'kill-switch',
          ['--reset', '--stage', 'local', '--yes', '--state', stateFile],
          60_000,
        );
        expect(reset.stderr).toBe('');
        expect(reset.code).toBe(0);
        expect(reset.stdout).toMatch(
          /^ {2}halted: grid since .+, by deadMansSwitch: dead man's switch: no heartbeat since/m,
        );
        expect(reset.stdout).toMatch(
          /^ {2}grid: no longer halted; 1 key\(s\) made read-write again \(demo…[0-9a-f]{2}\)$/m,
        );
        expect(reset.stdout).toContain('✔ reset 3 account(s): 1 key(s) made read-write again');
        // The live fire drill the try-it text prints, with the emulator as testnet.
        const drill = await runScript(
          'kill-switch',
          ['--fire-drill', '--stage', 'local', '--state', stateFile],
          90_000,
        );
        expect(drill.stderr).toBe('');
        expect(drill.code).toBe(0);
        expect(drill.stdout).toMatch(
          /^Phase times: place \d+ ms, kill switch \d+ ms, verify \d+ ms, reset \d+ ms; total [\d.]+ s$/m,
        );
        expect(drill.stdout).toContain(
          '✔ Fire drill passed: 6 order(s) placed, cancelled by the kill switch and verified gone',
        );
      } finally {
        // Only the stop here: an expect in a finally would hide the failure that brought us to it.
        await child.stop('SIGINT', 30_000);
      }
      const result = await child.finished;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('SIGINT: stopping');
      await expectNothingLeft(result, child.child.pid);
    },
    2 * RUN_TIMEOUT_MS,
  );

  it('refuses a port that is taken when it was asked for', async () => {
    const port = await anyFreePort();
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const result = await runScript(
        'start',
        ['--once', '--port', String(port), '--state', stateFile],
        60_000,
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.close();
    }
  });
});
