import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KillSwitchEventError } from '../../lib/errors.ts';
import { type EventBridgeSender, KillSwitchEvents } from '../../lib/lambda/kill-switch-event.ts';
import { handlerConfig, named, recordingSender } from '../support/sdk-fakes.ts';

const NOW = 1_800_000_000_000;

afterEach(() => {
  vi.restoreAllMocks();
});
const fakeEventBridge = (answer: () => unknown) => recordingSender<EventBridgeSender>(answer);

const events = (client: EventBridgeSender) =>
  new KillSwitchEvents({ client, source: 'bybit-cancel', detailType: 'Kill Switch', now: () => NOW });

describe('KillSwitchEvents.put', () => {
  it('puts one event on the default bus with the source, detail type and detail, and answers its id', async () => {
    const { client, sent } = fakeEventBridge(() => ({ FailedEntryCount: 0, Entries: [{ EventId: 'ev-1' }] }));

    const id = await events(client).put({ reason: 'drawdown', origin: 'telegram' });

    expect(id).toBe('ev-1');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.name).toBe('PutEventsCommand');
    expect(sent[0]?.input).toEqual({
      Entries: [
        {
          EventBusName: 'default',
          Source: 'bybit-cancel',
          DetailType: 'Kill Switch',
          Detail: '{"reason":"drawdown","origin":"telegram"}',
        },
      ],
    });
    expect(sent[0]?.options).toEqual({});
  });

  it('answers an id when the failed count is absent', async () => {
    const { client } = fakeEventBridge(() => ({ Entries: [{ EventId: 'ev-2' }] }));

    expect(await events(client).put({})).toBe('ev-2');
  });

  it('bounds the call by the deadline with an abort signal', async () => {
    const { client, sent } = fakeEventBridge(() => ({ Entries: [{ EventId: 'ev-3' }] }));
    const timeout = vi.spyOn(AbortSignal, 'timeout');

    await events(client).put({}, NOW + 2000);

    expect(timeout.mock.calls).toEqual([[2000]]);
    expect(sent[0]?.options.abortSignal).toBeInstanceOf(AbortSignal);
    expect(sent[0]?.options.abortSignal?.aborted).toBe(false);
  });

  it('aborts at once past the deadline and says EventBridge did not answer in time', async () => {
    let signal: AbortSignal | undefined;
    const client = {
      send: (_command: unknown, options: { abortSignal: AbortSignal }) => {
        signal = options.abortSignal;
        return new Promise((_resolve, reject) => {
          options.abortSignal.addEventListener('abort', () => reject(named('AbortError')));
        });
      },
    } as unknown as EventBridgeSender;

    const timeout = vi.spyOn(AbortSignal, 'timeout');

    const error = (await events(client)
      .put({}, NOW - 60_000)
      .catch((e: unknown) => e)) as Error;

    expect(timeout.mock.calls).toEqual([[1]]);
    expect(signal?.aborted).toBe(true);
    expect(error).toBeInstanceOf(KillSwitchEventError);
    expect(error.message).toBe('the kill-switch event was not put: no answer from EventBridge in time');
  });

  it.each(['TimeoutError', 'RequestTimeout'])('says a %s is no answer in time', async (name) => {
    const { client } = fakeEventBridge(() => named(name, 'slow'));

    await expect(events(client).put({})).rejects.toThrow(
      'the kill-switch event was not put: no answer from EventBridge in time',
    );
  });

  it('names a refusal, cut to 300 characters, keeping the cause', async () => {
    const refusal = named('AccessDeniedException', 'd'.repeat(400));
    const { client } = fakeEventBridge(() => refusal);

    const error = (await events(client)
      .put({})
      .catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(KillSwitchEventError);
    expect(error.message).toBe(
      `the kill-switch event was not put: ${`AccessDeniedException: ${'d'.repeat(400)}`.slice(0, 300)}`,
    );
    expect(error.cause).toBe(refusal);
  });

  it('refuses an entry that failed, with its code and message', async () => {
    const { client } = fakeEventBridge(() => ({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    }));

    await expect(events(client).put({})).rejects.toThrow(
      new KillSwitchEventError('EventBridge refused it: InternalFailure try again'),
    );
  });

  it('refuses a failed count even when the entry has an id', async () => {
    const { client } = fakeEventBridge(() => ({ FailedEntryCount: 1, Entries: [{ EventId: 'ev-4' }] }));

    await expect(events(client).put({})).rejects.toThrow(
      new KillSwitchEventError('EventBridge refused it: no event id'),
    );
  });

  it('refuses an answer without entries', async () => {
    const { client } = fakeEventBridge(() => ({ FailedEntryCount: 0 }));

    const error = (await events(client)
      .put({})
      .catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(KillSwitchEventError);
    expect(error.message).toBe('the kill-switch event was not put: EventBridge refused it: no event id');
  });

  it('builds its own SDK client when none is given: three attempts, Date.now as the clock', async () => {
    const seen: { client: unknown; attempts: number; handler: unknown; signal?: AbortSignal }[] = [];
    const send = vi.spyOn(EventBridgeClient.prototype, 'send').mockImplementation(async function (
      this: EventBridgeClient,
      _command: unknown,
      options?: unknown,
    ) {
      const attempts = await (this.config.maxAttempts as () => Promise<number>)();
      const handler = await handlerConfig(this.config.requestHandler);
      seen.push({
        client: this,
        attempts,
        handler,
        signal: (options as { abortSignal?: AbortSignal }).abortSignal,
      });
      return { Entries: [{ EventId: 'ev-own' }] };
    });
    try {
      const own = new KillSwitchEvents({ source: 's', detailType: 'd' });

      expect(await own.put({}, Date.now() + 60_000)).toBe('ev-own');
      expect(await own.put({})).toBe('ev-own');

      expect(seen).toHaveLength(2);
      expect(seen[0]?.client).toBeInstanceOf(EventBridgeClient);
      expect(seen[1]?.client).toBe(seen[0]?.client);
      expect(seen[0]?.attempts).toBe(3);
      expect(seen[0]?.handler).toEqual({
        connectionTimeout: 1000,
        requestTimeout: 2000,
        throwOnRequestTimeout: true,
      });
      // A deadline a minute away, measured on Date.now: not aborted yet.
      expect(seen[0]?.signal?.aborted).toBe(false);
      expect(seen[1]?.signal).toBeUndefined();
    } finally {
      send.mockRestore();
    }
  });
});
