// A wire-level stand-in for the parts of an AWS account the deploy tools read, on loopback, so the real SDK
// clients run end to end (point AWS_ENDPOINT_URL_STS, _LAMBDA, _EC2 and _CLOUDFORMATION at `url`, or give
// the clients `endpoint: url`). One server answers the protocols as the API references describe them:
//   - STS (awsQuery, Version 2011-06-15): GetCallerIdentity;
//   - CloudFormation (awsQuery, 2010-05-15): GetTemplate, DescribeStacks (a stack's outputs);
//   - EC2 (ec2Query, 2016-11-15): DescribeAccountAttributes, DescribeAddresses, DescribeVpcs;
//   - Lambda (REST-JSON): GET /2016-08-19/account-settings, GET /2019-09-30/functions/{name}/concurrency,
//     GET /2015-03-31/functions/{name}/configuration (a function's environment).
// Errors come back as each protocol sends them. Signature V4 is NOT verified; a request without an
// Authorization header is refused.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsApiError, listen, readBody } from './aws-endpoint.ts';

export interface AwsAccountState {
  accountId: string;
  arn: string;
  /** Lambda's concurrency limit (what is unreserved of it is the limit less the functions' reservations). */
  concurrencyLimit: number;
  /** Reserved concurrency by function name (functions not listed do not exist). */
  functions: Record<string, number | undefined>;
  maxElasticIps: number;
  addresses: { publicIp: string; tags?: Record<string, string> }[];
  vpcs: { id: string; tags?: Record<string, string> }[];
  /** Deployed stacks: their template, as GetTemplate returns it. */
  stacks: Record<string, object>;
  /** Deployed stacks' outputs (DescribeStacks), by stack name, then output key. */
  outputs?: Record<string, Record<string, string>>;
  /** Deployed functions' environment variables (GetFunctionConfiguration), by function name. */
  environments?: Record<string, Record<string, string>>;
}

export interface AwsAccount {
  readonly url: string;
  state: AwsAccountState;
  /** Calls received, as `Service:Operation`. */
  readonly calls: string[];
  close(): Promise<void>;
}

const VERSIONS: Record<string, 'sts' | 'cloudformation' | 'ec2'> = {
  '2011-06-15': 'sts',
  '2010-05-15': 'cloudformation',
  '2016-11-15': 'ec2',
};

export function defaultAccountState(): AwsAccountState {
  return {
    accountId: '123456789012',
    arn: 'arn:aws:iam::123456789012:user/deployer',
    concurrencyLimit: 1000,
    functions: {},
    maxElasticIps: 5,
    addresses: [],
    vpcs: [{ id: 'vpc-default' }],
    stacks: {},
  };
}

/** Starts the endpoint; resolves once it listens. */
export async function startAwsAccount(initial: AwsAccountState = defaultAccountState()): Promise<AwsAccount> {
  const calls: string[] = [];
  // Tests replace `account.state` whole: every answer reads it from there.
  const account: AwsAccount = { url: '', state: initial, calls, close: async () => undefined };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method === 'GET' && url.pathname.startsWith('/20')) return lambda(request, response, url);
    const form = new URLSearchParams(raw);
    const service = VERSIONS[form.get('Version') ?? ''];
    const action = form.get('Action') ?? '';
    try {
      if (request.headers.authorization === undefined) {
        throw new AwsApiError(403, 'MissingAuthenticationToken', 'Missing Authentication Token');
      }
      if (!service) throw new AwsApiError(400, 'InvalidAction', `unknown API version ${form.get('Version')}`);
      calls.push(`${service}:${action}`);
      const result = queryOperations[`${service}:${action}`]?.(form);
      if (result === undefined) throw new AwsApiError(400, 'InvalidAction', `${action} is not answered here`);
      xml(
        response,
        200,
        `<${action}Response xmlns="${namespace(service)}">${result}${metadata(service)}</${action}Response>`,
      );
    } catch (error) {
      const failure =
        error instanceof AwsApiError ? error : new AwsApiError(500, 'InternalFailure', String(error));
      xml(response, failure.status, errorBody(service ?? 'sts', failure));
    }
  }

  const queryOperations: Record<string, (form: URLSearchParams) => string> = {
    'sts:GetCallerIdentity': () =>
      `<GetCallerIdentityResult><Arn>${xmlEscape(account.state.arn)}</Arn><UserId>AIDLOCAL</UserId><Account>${account.state.accountId}</Account></GetCallerIdentityResult>`,
    'cloudformation:GetTemplate': (form) => {
      const name = form.get('StackName') ?? '';
      const template = account.state.stacks[name];
      if (!template) throw new AwsApiError(400, 'ValidationError', `Stack with id ${name} does not exist`);
      return `<GetTemplateResult><TemplateBody>${xmlEscape(JSON.stringify(template))}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable></GetTemplateResult>`;
    },
    'cloudformation:DescribeStacks': (form) => {
      const name = form.get('StackName') ?? '';
      const outputs = account.state.outputs?.[name];
      if (!outputs) throw new AwsApiError(400, 'ValidationError', `Stack with id ${name} does not exist`);
      const members = Object.entries(outputs)
        .map(
          ([key, value]) =>
            `<member><OutputKey>${xmlEscape(key)}</OutputKey><OutputValue>${xmlEscape(value)}</OutputValue></member>`,
        )
        .join('');
      return `<DescribeStacksResult><Stacks><member><StackName>${xmlEscape(name)}</StackName><StackId>arn:aws:cloudformation:ap-southeast-1:${account.state.accountId}:stack/${xmlEscape(name)}/${randomUUID()}</StackId><CreationTime>2026-11-21T09:30:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult>`;
    },
    'ec2:DescribeAccountAttributes': () =>
      `<accountAttributeSet>${[
        ['supported-platforms', 'VPC'],
        ['vpc-max-elastic-ips', String(account.state.maxElasticIps)],
        ['max-elastic-ips', '5'],
      ]
        .map(
          ([name, value]) =>
            `<item><attributeName>${name}</attributeName><attributeValueSet><item><attributeValue>${value}</attributeValue></item></attributeValueSet></item>`,
        )
        .join('')}</accountAttributeSet>`,
    'ec2:DescribeAddresses': () =>
      `<addressesSet>${account.state.addresses
        .map(
          (a, i) =>
            `<item><publicIp>${a.publicIp}</publicIp><allocationId>eipalloc-${i}</allocationId><domain>vpc</domain>${tagSet(a.tags)}</item>`,
        )
        .join('')}</addressesSet>`,
    'ec2:DescribeVpcs': () =>
      `<vpcSet>${account.state.vpcs
        .map(
          (v) =>
            `<item><vpcId>${v.id}</vpcId><state>available</state><cidrBlock>172.31.0.0/16</cidrBlock>${tagSet(v.tags)}</item>`,
        )
        .join('')}</vpcSet>`,
  };

  function lambda(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const reply = (status: number, body: object, type?: string) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        ...(type ? { 'x-amzn-errortype': type } : {}),
      });
      response.end(JSON.stringify(body));
    };
    if (request.headers.authorization === undefined) {
      reply(403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
      return;
    }
    if (url.pathname.replace(/\/$/, '') === '/2016-08-19/account-settings') {
      calls.push('lambda:GetAccountSettings');
      const reserved = Object.values(account.state.functions).reduce<number>((sum, n) => sum + (n ?? 0), 0);
      reply(200, {
        AccountLimit: {
          TotalCodeSize: 80_530_636_800,
          CodeSizeUnzipped: 262_144_000,
          CodeSizeZipped: 52_428_800,
          ConcurrentExecutions: account.state.concurrencyLimit,
          UnreservedConcurrentExecutions: account.state.concurrencyLimit - reserved,
        },
        AccountUsage: { TotalCodeSize: 0, FunctionCount: Object.keys(account.state.functions).length },
      });
      return;
    }
    const configuration = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/.exec(url.pathname);
    if (configuration) {
      const name = decodeURIComponent(configuration[1] as string);
      calls.push('lambda:GetFunctionConfiguration');
      const variables = account.state.environments?.[name];
      if (!variables) {
        reply(404, { Type: 'User', Message: `Function not found: ${name}` }, 'ResourceNotFoundException');
        return;
      }
      reply(200, {
        FunctionName: name,
        FunctionArn: `arn:aws:lambda:ap-southeast-1:${account.state.accountId}:function:${name}`,
        Runtime: 'nodejs22.x',
        Environment: { Variables: variables },
      });
      return;
    }
    const match = /^\/2019-09-30\/functions\/([^/]+)\/concurrency$/.exec(url.pathname);
    if (match) {
      const name = decodeURIComponent(match[1] as string);
      calls.push('lambda:GetFunctionConcurrency');
      if (!(name in account.state.functions)) {
        reply(404, { Type: 'User', Message: `Function not found: ${name}` }, 'ResourceNotFoundException');
        return;
      }
      const reserved = account.state.functions[name];
      reply(200, reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved });
      return;
    }
    reply(404, { message: `no route ${url.pathname}` }, 'UnknownOperationException');
  }

  const server = await listen('127.0.0.1', 0, handle);
  return Object.assign(account, { url: server.url, close: () => server.close() });
}

function namespace(service: string): string {
  if (service === 'ec2') return 'http://ec2.amazonaws.com/doc/2016-11-15/';
  if (service === 'cloudformation') return 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
  return 'https://sts.amazonaws.com/doc/2011-06-15/';
}

function metadata(service: string): string {
  return service === 'ec2'
    ? `<requestId>${randomUUID()}</requestId>`
    : `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
}

/** awsQuery: `<ErrorResponse><Error>…`; ec2Query: `<Response><Errors><Error>…`. */
function errorBody(service: string, error: AwsApiError): string {
  const inner = `<Code>${error.type}</Code><Message>${xmlEscape(error.message)}</Message>`;
  return service === 'ec2'
    ? `<Response><Errors><Error>${inner}</Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`
    : `<ErrorResponse><Error><Type>Sender</Type>${inner}</Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function tagSet(tags: Record<string, string> | undefined): string {
  if (!tags) return '';
  return `<tagSet>${Object.entries(tags)
    .map(([key, value]) => `<item><key>${xmlEscape(key)}</key><value>${xmlEscape(value)}</value></item>`)
    .join('')}</tagSet>`;
}

function xml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
