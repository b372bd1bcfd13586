// Firing the kill switch from inside the stack: the kill-switch event put on the default EventBridge bus, where
// the stack's rule sends it to cancelAll, with that rule's retries, dead-letter queue and alarms, the same way
// `npm run kill-switch` and the dead man's switch fire it. The SDK is loaded on first use.

import type { EventBridgeClient, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { KillSwitchEventError } from '../errors.ts';

/** The one method of the SDK client this adapter uses (tests pass their own). */
export type EventBridgeSender = Pick<EventBridgeClient, 'send'>;

export interface KillSwitchEventsOptions {
  /** Defaults to the SDK client, which follows the standard AWS_* endpoint and region settings. */
  client?: EventBridgeSender;
  /** KILL_SWITCH_SOURCE and KILL_SWITCH_DETAIL_TYPE: what the rule matches. */
  source: string;
  detailType: string;
  now?: () => number;
}

const defaults = { maxAttempts: 3, connectionTimeoutMs: 1000, requestTimeoutMs: 2000 };

type Sdk = typeof import('@aws-sdk/client-eventbridge');

export class KillSwitchEvents {
  private client: EventBridgeSender | undefined;
  private sdk: Promise<Sdk> | undefined;
  private readonly options: KillSwitchEventsOptions;
  private readonly now: () => number;

  constructor(options: KillSwitchEventsOptions) {
    this.options = options;
    this.client = options.client;
    this.now = options.now ?? Date.now;
  }

  /** Puts one kill-switch event with `detail`; answers its event id. Throws KillSwitchEventError. */
  async put(detail: Record<string, unknown>, until?: number): Promise<string> {
    this.sdk ??= import('@aws-sdk/client-eventbridge');
    const sdk = await this.sdk;
    this.client ??= new sdk.EventBridgeClient({
      maxAttempts: defaults.maxAttempts,
      requestHandler: {
        connectionTimeout: defaults.connectionTimeoutMs,
        requestTimeout: defaults.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    const limit = until === undefined ? undefined : AbortSignal.timeout(Math.max(1, until - this.now()));
    let answer: PutEventsCommandOutput;
    try {
      answer = await this.client.send(
        new sdk.PutEventsCommand({
          Entries: [
            {
              EventBusName: 'default',
              Source: this.options.source,
              DetailType: this.options.detailType,
              Detail: JSON.stringify(detail),
            },
          ],
        }),
        limit ? { abortSignal: limit } : {},
      );
    } catch (cause) {
      const { name, message } = cause as Error;
      const why = /Timeout|Abort/.test(name) ? 'no answer from EventBridge in time' : `${name}: ${message}`;
      throw new KillSwitchEventError(why.slice(0, 300), { cause });
    }
    const entry = answer.Entries?.[0];
    if (!entry?.EventId || (answer.FailedEntryCount ?? 0) > 0) {
      throw new KillSwitchEventError(
        `EventBridge refused it: ${entry?.ErrorCode ?? 'no event id'} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
    }
    return entry.EventId;
  }
}
