// The numbers and names the docs give, checked against the product rather than against strings written beside
// them: the functions, routes, log groups, alarms and capacity of the packaged CloudFormation template; the
// first wave and the verification listings of lib/cancel/scopes.ts under the deployed configuration; the
// local demo's accounts and orders from its seed. (The closing table of `npm start` is checked against a real
// run in start.test.ts.) docs/development/benchmarks.md and reliability-results.md are generated, dated
// measurements and are not read here, except for the headline the README quotes from them.

import { describe, expect, inject, it } from 'vitest';
import { everythingScopes, widestListings } from '../../lib/cancel/scopes.ts';
import { loadConfig } from '../../lib/lambda/config.ts';
import {
  BOT_PREFIX,
  DEMO_ACCOUNTS,
  DRILL_DEMO_EXPIRY_DAYS,
  demoOrders,
  RUNAWAY_BOT_ORDERS,
  STALE_AFTER_SECONDS,
} from '../../scripts/local/seed.ts';
import { docPages, prose, ROOT, readDoc, section } from '../support/docs.ts';

type Json = Record<string, unknown>;
const template = inject('packaged').template as {
  Resources: Record<string, { Type: string; Properties: Json }>;
};
const resources = Object.values(template.Resources);
const ofType = (type: string) => resources.filter((r) => r.Type === type).map((r) => r.Properties);

/** `bybit-cancel-<stage>-<name>` → `<name>`. */
const suffix = (name: unknown) => /^bybit-cancel-[a-z0-9]+-(.+)$/.exec(String(name))?.[1] ?? `?${name}`;
const functions = new Map(ofType('AWS::Lambda::Function').map((p) => [suffix(p.FunctionName), p]));
/** A function's environment, as Lambda would give it. */
function envOf(fn: string): Record<string, string> {
  const environment = functions.get(fn)?.Environment as { Variables: Record<string, string> } | undefined;
  if (!environment) throw new Error(`no function ${fn} with an environment in the template`);
  return environment.Variables;
}

const all = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1] as string);
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** The user-facing pages: README.md and docs/, without the generated measurements. */
const userPages = docPages()
  .map((path) => path.slice(ROOT.length))
  .filter((path) => !/development\/(benchmarks|reliability-results)\.md$/.test(path));
const userText = userPages.map((path) => prose(readDoc(path)).join('\n')).join('\n');

describe('the docs against the packaged template', () => {
  it('list exactly the functions it deploys', () => {
    expect(functions.size).toBeGreaterThan(0);
    const deployed = section(readDoc('docs/getting-started/deploy.md'), 'What gets deployed');
    expect(sorted(all(deployed, /^\| `(\w+)` function \|/gm))).toEqual(sorted(functions.keys()));
    // The README's diagram shows every function as a node.
    const diagram = /```mermaid\n([\s\S]*?)```/.exec(readDoc('README.md'))?.[1] ?? '';
    for (const fn of functions.keys()) expect(diagram).toContain(`${fn}["`);
  });

  it('list exactly the routes of its HTTP API', () => {
    const routes = sorted(ofType('AWS::ApiGatewayV2::Route').map((p) => String(p.RouteKey)));
    expect(routes.length).toBeGreaterThan(0);
    const table = section(readDoc('docs/reference/http-api.md'), 'Routes');
    expect(sorted(all(table, /^\| `(POST \/[\w-]+)`/gm))).toEqual(routes);
    const deployed = section(readDoc('docs/getting-started/deploy.md'), 'What gets deployed');
    const row = /^\| HTTP API \|.*$/m.exec(deployed)?.[0] ?? '';
    expect(sorted(all(row, /`(POST \/[\w-]+)`/g))).toEqual(routes);
  });

  it('name the log groups it creates', () => {
    const groups = sorted(
      ofType('AWS::Logs::LogGroup').map((p) => suffix(String(p.LogGroupName).split('/').at(-1))),
    );
    expect(groups.length).toBeGreaterThan(0);
    const deployed = section(readDoc('docs/getting-started/deploy.md'), 'What gets deployed');
    const row = /^\| log groups \|.*$/m.exec(deployed)?.[0] ?? '';
    expect(sorted(all(row, /`(?:\/aws\/lambda\/bybit-cancel-<stage>)?-(\w+)`/g))).toEqual(groups);
    const monitoring = /^\| logs \|.*$/m.exec(readDoc('docs/operations/monitoring.md'))?.[0] ?? '';
    expect(sorted(all(monitoring, /`(?:\/aws\/lambda\/bybit-cancel-<stage>-|…-)(\w+)`/g))).toEqual(groups);
  });

  it('list exactly its alarms, and count them in the cost table', () => {
    const alarms = sorted(ofType('AWS::CloudWatch::Alarm').map((p) => suffix(p.AlarmName)));
    expect(alarms.length).toBeGreaterThan(0);
    const table = section(readDoc('docs/operations/monitoring.md'), 'The alarms');
    expect(sorted(all(table, /^\| `([\w-]+)` \|/gm))).toEqual(alarms);
    const cost = /^\| CloudWatch alarms: (\d+) .*\| \$0\.10 an alarm \| \$([\d.]+) \| \$([\d.]+) \|$/m.exec(
      readDoc('README.md'),
    );
    expect(cost?.slice(1)).toEqual([
      String(alarms.length),
      (alarms.length * 0.1).toFixed(2),
      (alarms.length * 0.1).toFixed(2),
    ]);
  });

  it('give the sweep and the drill the schedules it sets', () => {
    /** The rate of the schedule rule that targets `fn`, e.g. `rate(5 minutes)`. */
    const rateOf = (fn: string) => {
      const arn = JSON.stringify({
        'Fn::GetAtt': [`${fn[0]?.toUpperCase()}${fn.slice(1)}LambdaFunction`, 'Arn'],
      });
      const rule = ofType('AWS::Events::Rule').find(
        (p) => p.ScheduleExpression && JSON.stringify(p.Targets).includes(arn),
      );
      return String(rule?.ScheduleExpression);
    };
    const minutes = all(userText, /every (\d+) min(?:ute)?s?\b/g);
    expect(minutes.length).toBeGreaterThanOrEqual(3);
    for (const n of minutes) expect(rateOf('cancel')).toBe(`rate(${n} minutes)`);
    expect(userText).toMatch(/daily/);
    expect(rateOf('drill')).toBe('rate(1 day)');
  });

  it("give each exchange function's containers and IP budget as the template sets them", () => {
    const page = readDoc('docs/concepts/capacity.md');
    const rows = [...page.matchAll(/^\| `(\w+)`: [^|]+\| (\d+) \| (\d+) \| (\d+) \|$/gm)];
    const bound = [...functions].filter(([, p]) => p.ReservedConcurrentExecutions !== undefined);
    expect(sorted(rows.map((r) => r[1] as string))).toEqual(sorted(bound.map(([fn]) => fn)));
    let sum = 0;
    for (const [, fn, containers, budget, total] of rows) {
      const reserved = Number(functions.get(fn as string)?.ReservedConcurrentExecutions);
      const share = loadConfig(envOf(fn as string)).ipRequestsPer5s;
      expect([Number(containers), Number(budget), Number(total)], fn).toEqual([
        reserved,
        share,
        reserved * share,
      ]);
      sum += reserved * share;
    }
    expect(page).toContain(`**${sum} of 600**`);
    // The deploy prerequisites name the same reservations.
    const line = /reserves concurrency for its functions \(([^)]*)/.exec(
      readDoc('docs/getting-started/deploy.md').replace(/\n\s*/g, ' '),
    );
    const named = [...(line?.[1] ?? '').matchAll(/`(\w+)` (\d+)/g)].map((m) => [m[1], Number(m[2])]);
    expect(named).toEqual(
      expect.arrayContaining(bound.map(([fn, p]) => [fn, Number(p.ReservedConcurrentExecutions)])),
    );
    expect(named).toHaveLength(bound.length);
  });
});

describe('the docs against the kill switch and the deployed configuration', () => {
  const { scope } = loadConfig(envOf('cancelAll'));
  const firstWave = everythingScopes(scope).length;
  const listings = widestListings(scope.categories, scope.linearSettleCoins).length;

  it('count the first wave per account as scopes.ts builds it', () => {
    const said = [
      ...all(userText, /(\d+) first-wave cancel-alls/g),
      ...all(userText, /that is (\d+) scopes/g),
      ...all(userText, /first wave is (\d+)/g),
    ];
    expect(said.length).toBeGreaterThanOrEqual(3);
    expect(said.map(Number)).toEqual(said.map(() => firstWave));
  });

  it('count the verification listings per account as scopes.ts builds them', () => {
    const said = [...all(userText, /(\d+) widest listings/g), ...all(userText, /× (\d+) listings/g)];
    expect(said.length).toBeGreaterThanOrEqual(3);
    expect(said.map(Number)).toEqual(said.map(() => listings));
    // Per account: the first wave, the strategy listing and the unfiltered inverse listing beside it, and
    // the verification listings (an account with no strategy order able to trade lists strategies once).
    const perAccount = all(userText, /(\d+) requests per account/g);
    expect(perAccount.length).toBeGreaterThan(0);
    const inverse = scope.categories.includes('inverse') ? 1 : 0;
    const strategies = 1;
    expect(perAccount.map(Number)).toEqual(perAccount.map(() => firstWave + strategies + inverse + listings));
  });
});

describe('the docs against the local demo', () => {
  const now = Date.now();
  const seeded = DEMO_ACCOUNTS.map((a) => demoOrders(a.name, now));
  const total = seeded.flat().length;
  const stale = seeded
    .flat()
    .filter(
      (o) =>
        o.orderLinkId?.startsWith(BOT_PREFIX) && now - Number(o.createdTime) > STALE_AFTER_SECONDS * 1000,
    );

  /** The closing table `npm start` prints, as a page shows it. */
  function closingTable(path: string) {
    const rows = [...readDoc(path).matchAll(/^ {2}(\d) (.+?) +(\d+) +(\d+) +✔$/gm)];
    return rows.map(([, step, title, cancelled, openAfter]) => ({
      step: Number(step),
      title: title as string,
      cancelled: Number(cancelled),
      openAfter: Number(openAfter),
    }));
  }

  it('show a closing table whose orders add up to the seed', () => {
    const table = closingTable('README.md');
    expect(table.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(closingTable('docs/getting-started/local.md')).toEqual(table);
    let open = total;
    for (const row of table.slice(0, 5)) {
      open -= row.cancelled;
      expect(row.openAfter, row.title).toBe(open);
    }
    expect(table.find((r) => r.title === 'stale-order sweep')?.cancelled).toBe(stale.length);
    expect(table.at(4)).toMatchObject({ title: 'kill switch', openAfter: 0 });
    // The dead man's switch clears a book seeded afresh.
    expect(table.at(5)).toMatchObject({ cancelled: total, openAfter: 0 });
    // The runaway bot's orders, cancelled by the kill switch; it cancels its one order after the reset.
    expect(table.at(6)).toEqual({
      step: 7,
      title: 'runaway bot halted',
      cancelled: RUNAWAY_BOT_ORDERS,
      openAfter: 0,
    });
    // The kill switch from Telegram clears a book seeded afresh.
    expect(table.at(7)).toEqual({ step: 8, title: 'telegram kill switch', cancelled: total, openAfter: 0 });
  });

  it("name the demo's accounts, keys, sweep and drill settings as the seed has them", () => {
    const local = prose(readDoc('docs/getting-started/local.md')).join('\n').replace(/\n\s*/g, ' ');
    const accounts = [...local.matchAll(/`(\w+)` \(an? (HMAC|RSA) key\)/g)].map((m) => [m[1], m[2]]);
    expect(accounts).toEqual(DEMO_ACCOUNTS.map((a) => [a.name, a.rsa ? 'RSA' : 'HMAC']));
    expect(local).toContain(
      `with three demo accounts`.replace('three', ['one', 'two', 'three'][DEMO_ACCOUNTS.length - 1] ?? ''),
    );
    expect(local).toContain(
      `older than ${STALE_AFTER_SECONDS} s whose \`orderLinkId\` starts with \`${BOT_PREFIX}\``,
    );
    expect(local).toContain(`which expires in ${DRILL_DEMO_EXPIRY_DAYS} days`);
  });
});

describe("the README's benchmark headline", () => {
  it('quotes the ratios of the last generated run', () => {
    const readme = readDoc('README.md').replace(/\n/g, ' ');
    const [, speedup, ideal] =
      /kill switch cleared \w+ accounts ([\d.]+)× faster.*?within ([\d.]+)× of the ideal/.exec(readme) ?? [];
    const bench = readDoc('docs/development/benchmarks.md');
    expect(bench).toContain(`peer/ours ${speedup}×`);
    expect(bench).toContain(`ours/ideal ${ideal}×`);
  });
});
