// A passing run prints the runner's summary, not the functions' log lines; a failing test's lines are printed
// under its name; and secret hygiene still reads the lines nobody sees. Checked by running the project's
// vitest configuration (setup files and `silent`) on a fixture, in a vitest process of its own.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/local-run.ts';

const run = promisify(execFile);

async function vitest(mode: 'pass' | 'fail' | 'leak') {
  const env: Record<string, string> = {};
  // Nothing of the outer vitest (its worker ids, its mode) may leak into the inner one.
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('VITEST') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  const args = [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--config',
    'test/support/quiet-output/vitest.config.ts',
  ];
  try {
    const { stdout, stderr } = await run(process.execPath, args, {
      cwd: ROOT,
      env: { ...env, QUIET_FIXTURE: mode, NO_COLOR: '1', CI: 'true' },
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, output: stdout + stderr };
  }
}

describe('the test run', () => {
  it('prints no log line of a passing file, only the summary', async () => {
    const { code, output } = await vitest('pass');
    expect(output).toContain('Tests  2 passed (2)');
    expect(output).not.toContain('line of a passing test');
    expect(output).not.toContain('line of a failing test');
    expect(output.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);
    expect(code).toBe(0);
  });

  it("prints a failing test's stdout, stderr and console lines under its name, and no passing test's", async () => {
    const { code, output } = await vitest('fail');
    expect(code).toBe(1);
    expect(output).toMatch(
      /stdout \| test\/support\/quiet-output\/fixture\.ts > quiet output fixture > fails when asked to\n\{"level":"error","message":"line of a failing test"\}\nconsole line of a failing test/,
    );
    expect(output).toMatch(/stderr \| .*fails when asked to\nstderr line of a failing test/);
    expect(output).not.toContain('line of a passing test');
  });

  it('still checks the lines it does not print for secrets', async () => {
    const { code, output } = await vitest('leak');
    expect(output).toContain('Tests  2 passed (2)');
    expect(output).toMatch(/secret hygiene: 4 log lines, 0 responses, 0 errors, 0 messages checked; 1 leaks/);
    expect(code).toBe(1);
  });
});
