// A test file for test/integration/quiet-output.test.ts, run by a vitest of its own with the project's
// setup files. QUIET_FIXTURE: `fail` (the second test fails), `pass`, or `leak` (a passing test writes
// something shaped like a signature).

import { describe, expect, it } from 'vitest';

const mode = process.env.QUIET_FIXTURE ?? 'fail';

describe('quiet output fixture', () => {
  it('passes', () => {
    process.stdout.write('{"level":"info","message":"line of a passing test"}\n');
    if (mode === 'leak') process.stdout.write(`{"level":"info","message":"${'ab'.repeat(32)}"}\n`);
    expect(mode).toBeTypeOf('string');
  });

  it('fails when asked to', () => {
    process.stdout.write('{"level":"error","message":"line of a failing test"}\n');
    process.stderr.write('stderr line of a failing test\n');
    console.log('console line of a failing test');
    expect(mode === 'fail' ? 'failed' : 'passed').toBe('passed');
  });
});
