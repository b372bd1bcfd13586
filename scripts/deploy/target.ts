// A stage as `npm run kill-switch` reaches it: a deployed one through the AWS SDK (with the person's own
// credentials), or the local stack `npm start` runs, through its loopback endpoints. The reset and the fire
// drill speak to either the same way: invoke a function and wait for its answer, read a function's settings
// and a secret, read the state table, and fire the kill switch (the event, through EventBridge when deployed).

import { StateError } from '../../lib/errors.ts';
import { type RunRecord, recordKeys } from '../../lib/lambda/records.ts';
import { StateStore } from '../../lib/lambda/state.ts';
import { eventBridgeEvent, type Invocation, invokeFunction } from '../local/invoke.ts';
import { serviceName } from '../local/service.ts';
import type { LocalState } from '../local/state.ts';

/** The tool ran, or sent what it had to, but it did not do everything: exit 1. */
export class NotDoneError extends Error {}

/** The functions a tool invokes by their short name (serverless.yml's). */
export type FunctionName = 'cancelAll' | 'reset';

export interface FiredKillSwitch {
  /** The event's id: its record in the state table is kept under it. */
  eventId: string;
  /** The run's record once its report is written; undefined when the wait ran out. */
  record?: RunRecord;
}

export interface StageTarget {
  stage: string;
  /** ` in ap-southeast-1`, or ` (local)`. */
  where: string;
  invoke(fn: FunctionName, payload: unknown, timeoutMs: number): Promise<Invocation>;
  /** The function's environment as deployed (BYBIT_BASE_URL, BYBIT_SECRET_ID, …). */
  settings(fn: FunctionName): Promise<Record<string, string>>;
  /** A secret's JSON value. Never printed. */
  secret(id: string): Promise<unknown>;
  state(): Promise<StateStore>;
  /** Fires the kill switch as the stage's trigger would deliver it, and waits for its record. */
  fireKillSwitch(
    kind: { source: string; detailType: string },
    detail: unknown,
    waitMs: number,
  ): Promise<FiredKillSwitch>;
}

const POLL_MS = 1000;

/** The local stack of `npm start` (its state file says where everything listens). */
export function localTarget(state: LocalState): StageTarget {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local-demo' };
  return {
    stage: state.stage,
    where: ' (local)',
    invoke: (fn, payload, timeoutMs) =>
      invokeFunction(state.lambdaUrl, state.functions[fn], payload, timeoutMs),
    settings: async () => ({ BYBIT_BASE_URL: state.emulatorUrl, BYBIT_SECRET_ID: state.exchangeSecretId }),
    async secret(id) {
      const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      const client = new SecretsManagerClient({
        region: state.region,
        credentials,
        endpoint: state.secretsUrl,
      });
      return JSON.parse(
        (await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? 'null',
      );
    },
    async state() {
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      return new StateStore({
        tableName: state.stateTable,
        client: new DynamoDBClient({ region: state.region, credentials, endpoint: state.stateUrl }),
      });
    },
    // No EventBridge here: the event goes to the function as the kill-switch rule would hand it over.
    async fireKillSwitch(kind, detail, waitMs) {
      const event = eventBridgeEvent(kind.source, kind.detailType, detail, state.region);
      await invokeFunction(state.lambdaUrl, state.functions.cancelAll, event, waitMs);
      const store = await this.state();
      return { eventId: event.id, record: (await store.get<RunRecord>(recordKeys.event(event.id)))?.value };
    },
  };
}

/** A deployed stage in `region`, reached with the person's AWS credentials. */
export function deployedTarget(stage: string, region: string): StageTarget {
  const name = (fn: FunctionName) => `${serviceName()}-${stage}-${fn}`;
  const timeouts = { connectionTimeout: 3000, requestTimeout: 10_000 };
  return {
    stage,
    where: ` in ${region}`,
    async invoke(fn, payload, timeoutMs) {
      const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
      // One attempt: a reset or a check that timed out is reported, not sent again behind the person's back.
      const client = new LambdaClient({
        region,
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 3000, requestTimeout: timeoutMs },
      });
      const out = await client.send(
        new InvokeCommand({
          FunctionName: name(fn),
          InvocationType: 'RequestResponse',
          Payload: JSON.stringify(payload),
        }),
      );
      const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
      const parsed = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      if (out.FunctionError) {
        return {
          ok: false,
          errorType: String(parsed.errorType ?? 'Error'),
          errorMessage: String(parsed.errorMessage ?? text.slice(0, 500)),
        };
      }
      return { ok: true, result: parsed };
    },
    async settings(fn) {
      const { GetFunctionConfigurationCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
      const client = new LambdaClient({ region, maxAttempts: 3, requestHandler: timeouts });
      const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name(fn) }));
      return { ...(config.Environment?.Variables ?? {}) };
    },
    async secret(id) {
      const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      const client = new SecretsManagerClient({ region, maxAttempts: 3, requestHandler: timeouts });
      return JSON.parse(
        (await client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? 'null',
      );
    },
    async state() {
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      return new StateStore({
        tableName: `${serviceName()}-${stage}-state`,
        client: new DynamoDBClient({ region, maxAttempts: 3 }),
      });
    },
    async fireKillSwitch(kind, detail, waitMs) {
      const eventId = await putKillSwitchEvent(region, kind, detail);
      return { eventId, record: await pollRecord(await this.state(), eventId, waitMs) };
    },
  };
}

/** Puts the kill-switch event on the default bus; its id, or an error saying why EventBridge refused it. */
export async function putKillSwitchEvent(
  region: string,
  kind: { source: string; detailType: string },
  detail: unknown,
): Promise<string> {
  const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
  const client = new EventBridgeClient({
    region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
  });
  const sent = await client.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: 'default',
          Source: kind.source,
          DetailType: kind.detailType,
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  );
  const entry = sent.Entries?.[0];
  if (!entry?.EventId || (sent.FailedEntryCount ?? 0) > 0) {
    throw new Error(
      `EventBridge refused the event: ${entry?.ErrorCode ?? 'no entry id'} ${entry?.ErrorMessage ?? ''}`.trim(),
    );
  }
  return entry.EventId;
}

/**
 * The event's record once the function has written it; undefined when `waitMs` ran out. A table that is not
 * there or may not be read will not become readable by waiting: that throws at once.
 */
export async function pollRecord(
  store: StateStore,
  eventId: string,
  waitMs: number,
): Promise<RunRecord | undefined> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      const item = await store.get<RunRecord>(recordKeys.event(eventId));
      if (item) return item.value;
    } catch (error) {
      if (error instanceof StateError && /does not exist|access denied/.test(error.message)) throw error;
    }
    if (Date.now() + POLL_MS > until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
