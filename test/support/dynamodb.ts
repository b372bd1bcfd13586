// DynamoDB on loopback: dynalite, a DynamoDB implementation on LevelDB (in memory here) that answers with
// DynamoDB's own validation errors, reached by the real @aws-sdk/client-dynamodb (point
// AWS_ENDPOINT_URL_DYNAMODB at `url`). Used by the tests, the local run and the benchmarks.

import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/** What CreateTable needs: the packaged template's table properties, or lib/lambda/state.ts's definition. */
export interface TableDefinition {
  TableName: string;
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
}

export interface DynamoEndpoint {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** A client of this endpoint (any credentials: dynalite checks none). */
  readonly client: DynamoDBClient;
  /** Creates the table and resolves once it is ACTIVE. */
  createTable(definition: TableDefinition): Promise<void>;
  close(): Promise<void>;
}

export interface DynamoOptions {
  port?: number;
  host?: string;
  tables?: TableDefinition[];
}

const ACTIVE_POLL_MS = 10;
const ACTIVE_TIMEOUT_MS = 5000;

/** Starts an in-memory DynamoDB on loopback and creates `tables`. */
export async function startDynamo(options: DynamoOptions = {}): Promise<DynamoEndpoint> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address}:${port}`;
  const client = new DynamoDBClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local-dynamodb' },
  });
  const endpoint: DynamoEndpoint = {
    url,
    client,
    async createTable({ TableName, KeySchema, AttributeDefinitions }) {
      await client.send(
        new CreateTableCommand({
          TableName,
          KeySchema,
          AttributeDefinitions,
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const until = Date.now() + ACTIVE_TIMEOUT_MS;
      for (;;) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName }));
        if (Table?.TableStatus === 'ACTIVE') return;
        if (Date.now() > until)
          throw new Error(`table ${TableName} is not ACTIVE after ${ACTIVE_TIMEOUT_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, ACTIVE_POLL_MS));
      }
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        client.destroy();
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
  for (const table of options.tables ?? []) await endpoint.createTable(table);
  return endpoint;
}
