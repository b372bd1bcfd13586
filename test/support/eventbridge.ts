// Amazon EventBridge's awsJson1_1 wire protocol for PutEvents and ListRules, on loopback (point
// AWS_ENDPOINT_URL_EVENTBRIDGE at `url`), with ListRules' NamePrefix matching as AWS does it. An accepted
// event can be handed on as the bus would deliver it to a rule's target (`onEvent`), so that a command that puts
// one can be followed to the function that runs it.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScheduledEvent } from './scheduler.ts';

export interface EventBridgeCall {
  target: string;
  /** The region the client signed for (SigV4's credential scope). */
  region: string | undefined;
  body: Record<string, unknown>;
}

export interface Rule {
  Name: string;
  State: string;
  EventPattern: string;
}

/** An event as the bus delivers it to a rule's target (the same shape a schedule's event has). */
export type DeliveredEvent = ScheduledEvent;

export interface FakeEventBridge {
  url: string;
  calls: EventBridgeCall[];
  /** The id the next accepted event gets (with `freshIds`, the id the last one got). */
  eventId: string;
  rules: Rule[];
  /** When set, PutEvents refuses its entry with this. */
  failEntry?: { ErrorCode: string; ErrorMessage: string };
  close(): Promise<void>;
}

export interface EventBridgeOptions {
  rules?: Rule[];
  /** Each accepted event gets an id of its own, as the bus gives (default: every event gets `eventId`). */
  freshIds?: boolean;
  /** Receives each accepted event (not awaited: PutEvents answers at once, as the bus does). */
  onEvent?: (event: DeliveredEvent) => void;
}

/** Starts the endpoint; resolves once it listens. */
export async function startEventBridge(options: EventBridgeOptions = {}): Promise<FakeEventBridge> {
  const fake: Omit<FakeEventBridge, 'url' | 'close'> = {
    calls: [],
    eventId: crypto.randomUUID(),
    rules: options.rules ?? [],
  };
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target']);
    const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(String(request.headers.authorization))?.[1];
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    fake.calls.push({ target, region, body });
    let reply: unknown;
    if (target === 'AWSEvents.PutEvents') {
      if (fake.failEntry) reply = { FailedEntryCount: 1, Entries: [fake.failEntry] };
      else {
        if (options.freshIds) fake.eventId = crypto.randomUUID();
        const id = fake.eventId;
        reply = { FailedEntryCount: 0, Entries: [{ EventId: id }] };
        const [entry] = (body.Entries ?? []) as { Source: string; DetailType: string; Detail: string }[];
        if (entry && options.onEvent) {
          options.onEvent({
            version: '0',
            id,
            'detail-type': entry.DetailType,
            source: entry.Source,
            account: '123456789012',
            time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            region: region ?? 'us-east-1',
            resources: [],
            detail: JSON.parse(entry.Detail),
          });
        }
      }
    } else {
      const prefix = String(body.NamePrefix ?? '');
      reply = {
        Rules: fake.rules
          .filter((r) => r.Name.startsWith(prefix))
          .map((r) => ({ ...r, EventBusName: 'default' })),
      };
    }
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(JSON.stringify(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

/** The kill-switch rule of a packaged template: the one rule with an event pattern, as ListRules shows it. */
export function templateRule(template: Record<string, unknown>, state = 'ENABLED'): Rule {
  const rules = Object.values(
    template.Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>,
  )
    .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern)
    .map((r) => r.Properties as { Name: string; EventPattern: unknown });
  if (rules.length !== 1)
    throw new Error(`the packaged template has ${rules.length} event-pattern rules, expected 1`);
  const [rule] = rules as [{ Name: string; EventPattern: unknown }];
  return { Name: rule.Name, State: state, EventPattern: JSON.stringify(rule.EventPattern) };
}
