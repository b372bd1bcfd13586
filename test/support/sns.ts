// A wire-level Amazon SNS endpoint on loopback, so the real @aws-sdk/client-sns runs end to end in tests and local
// runs (point AWS_ENDPOINT_URL_SNS at `url`). It speaks the Query protocol as the SNS API reference describes it:
// `POST /` with a form-encoded body (`Action=Publish&TopicArn=…&Subject=…&Message=…`, message attributes as
// `MessageAttributes.entry.N.Name/Value.DataType/Value.StringValue`), answered in XML; errors as
// `<ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>` with their HTTP status. It answers
// CreateTopic and Publish, and checks what Publish's reference requires: an existing topic, a message of at
// most 256 KB, and a subject of ASCII text that begins with a letter, number or punctuation mark, with no line
// break or control character, under 100 characters.
//
// Signature V4 is NOT verified: any Authorization header is accepted; a request without one is refused.
// Every published subject and message is handed to the secret-hygiene check.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsApiError, listen, nextOf, readBody } from './aws-endpoint.ts';
import { observeText } from './secret-registry.ts';

export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, string>;
  messageId: string;
  /** When it arrived (ms). */
  at: number;
}

export type SnsFault = 'internal' | 'authorization' | 'hang';

export interface SnsEndpoint {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Creates a topic (as CreateTopic would) and returns its ARN. */
  createTopic(name: string): string;
  /** Every message published, in order (to every topic, or to one). */
  published(topicArn?: string): PublishedMessage[];
  /** The next `count` Publish calls fail with `fault` (`hang`: no answer until the client gives up). */
  failNext(fault: SnsFault, count?: number): void;
  /** Resolves with the next message published after this call. */
  nextMessage(timeoutMs: number): Promise<PublishedMessage>;
  /** Forgets published messages and pending faults; topics stay. */
  reset(): void;
  close(): Promise<void>;
}

export interface SnsOptions {
  port?: number;
  host?: string;
  region?: string;
  /** Topic names to create at start. */
  topics?: string[];
}

const ACCOUNT_ID = '123456789012';
const XMLNS = 'https://sns.amazonaws.com/doc/2010-03-31/';
const MESSAGE_MAX_BYTES = 256 * 1024;
/** Printable ASCII starting with a letter, digit or punctuation mark (no space), under 100 characters. */
const SUBJECT = /^[\x21-\x7e][\x20-\x7e]{0,98}$/;
const TOPIC_NAME = /^[\w-]{1,256}$/;

const FAULTS = {
  internal: { status: 500, type: 'Receiver', code: 'InternalError', message: 'Internal Error' },
  authorization: {
    status: 403,
    type: 'Sender',
    code: 'AuthorizationError',
    message: 'User is not authorized to perform: SNS:Publish on this resource',
  },
} as const;

/** Starts the endpoint; resolves once it listens. */
export async function startSns(options: SnsOptions = {}): Promise<SnsEndpoint> {
  const region = options.region ?? 'us-east-1';
  const topics = new Set<string>();
  const messages: PublishedMessage[] = [];
  let faults: { fault: SnsFault; remaining: number }[] = [];
  let waiters: ((message: PublishedMessage) => void)[] = [];
  const arnOf = (name: string) => `arn:aws:sns:${region}:${ACCOUNT_ID}:${name}`;

  const operations: Record<string, (form: URLSearchParams) => Record<string, string>> = {
    CreateTopic(form) {
      const name = form.get('Name') ?? '';
      if (!TOPIC_NAME.test(name)) throw invalid('Topic Name');
      topics.add(arnOf(name));
      return { TopicArn: arnOf(name) };
    },
    Publish(form) {
      const topicArn = form.get('TopicArn') ?? form.get('TargetArn') ?? '';
      if (!topics.has(topicArn)) throw new AwsApiError(404, 'NotFound', 'Topic does not exist');
      const message = form.get('Message');
      if (!message) throw invalid('Empty message');
      if (Buffer.byteLength(message) > MESSAGE_MAX_BYTES) throw invalid('Message too long');
      const subject = form.get('Subject') ?? undefined;
      if (subject !== undefined && !SUBJECT.test(subject)) throw invalid('Subject');
      const published: PublishedMessage = {
        topicArn,
        subject,
        message,
        attributes: attributesOf(form),
        messageId: randomUUID(),
        at: Date.now(),
      };
      messages.push(published);
      observeText(`${subject ?? ''}\n${message}`);
      const pending = waiters;
      waiters = [];
      for (const resolve of pending) resolve(published);
      return { MessageId: published.messageId };
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const reply = (status: number, xml: string) => {
      response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
      response.end(xml);
    };
    try {
      const form = new URLSearchParams(await readBody(request));
      if (request.headers.authorization === undefined)
        throw new AwsApiError(403, 'MissingAuthenticationToken', 'Missing Authentication Token');
      const action = form.get('Action') ?? '';
      const operation =
        request.method === 'POST' && Object.hasOwn(operations, action) ? operations[action] : undefined;
      if (!operation) throw new AwsApiError(400, 'InvalidAction', `Could not find operation ${action}`);
      if (action === 'Publish') {
        const pending = faults[0];
        if (pending) {
          pending.remaining -= 1;
          faults = faults.filter((f) => f.remaining > 0);
          // The client gives up and closes the socket; the server never answers.
          if (pending.fault === 'hang') return;
          const { status, code, message } = FAULTS[pending.fault];
          throw new AwsApiError(status, code, message);
        }
      }
      const result = Object.entries(operation(form))
        .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
        .join('');
      reply(
        200,
        `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      );
    } catch (error) {
      const failure =
        error instanceof AwsApiError ? error : new AwsApiError(500, 'InternalError', 'Test endpoint failure');
      const type = failure.status >= 500 ? 'Receiver' : 'Sender';
      reply(
        failure.status,
        `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${failure.type}</Code><Message>${escapeXml(failure.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
  }

  for (const name of options.topics ?? []) topics.add(arnOf(name));
  const server = await listen(options.host ?? '127.0.0.1', options.port ?? 0, handle);
  return {
    url: server.url,
    createTopic(name) {
      topics.add(arnOf(name));
      return arnOf(name);
    },
    published: (topicArn) => messages.filter((m) => topicArn === undefined || m.topicArn === topicArn),
    failNext(fault, count = 1) {
      if (count > 0) faults.push({ fault, remaining: count });
    },
    nextMessage: (timeoutMs) => nextOf(waiters, timeoutMs, 'message'),
    reset() {
      messages.length = 0;
      faults = [];
    },
    close: () => server.close(),
  };
}

function invalid(what: string): AwsApiError {
  return new AwsApiError(400, 'InvalidParameter', `Invalid parameter: ${what}`);
}

/** `MessageAttributes.entry.N.Name` with `.Value.StringValue`, by name. */
function attributesOf(form: URLSearchParams): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n++) {
    const name = form.get(`MessageAttributes.entry.${n}.Name`) as string;
    attributes[name] = form.get(`MessageAttributes.entry.${n}.Value.StringValue`) ?? '';
  }
  return attributes;
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
