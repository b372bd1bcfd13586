// Reading the packaged CloudFormation template in tests: its resources by type, and IAM statements.

export type Json = Record<string, unknown>;

export interface TemplateResource {
  Type: string;
  Condition?: string;
  Properties?: Json;
}

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Json;
}

/** A value CloudFormation allows as one item or a list, as a list. */
export function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The template's resources of one type, with their logical ids. */
export function resourcesOfType(
  template: Record<string, unknown>,
  type: string,
): [string, TemplateResource][] {
  return Object.entries(template.Resources as Record<string, TemplateResource>).filter(
    ([, r]) => r.Type === type,
  );
}

/** The statements of a role's inline policies. */
export function roleStatements(template: Record<string, unknown>, roleId: string): PolicyStatement[] {
  const role = (template.Resources as Record<string, TemplateResource>)[roleId]?.Properties as
    | { Policies?: { PolicyDocument: { Statement: PolicyStatement | PolicyStatement[] } }[] }
    | undefined;
  return list(role?.Policies).flatMap((p) => list(p.PolicyDocument.Statement));
}

/**
 * The logical ids of the functions that send requests to Bybit, and so share its limit per IP (and, with
 * STATIC_IP, the egress addresses): the product's claim, written once for the tests that check what follows
 * from it (reservations, shares, the VPC, asynchronous retries). A function added to the stack that calls Bybit
 * belongs here.
 */
export const EXCHANGE_FUNCTIONS = [
  'CancelLambdaFunction',
  'CancelAllLambdaFunction',
  'DrillLambdaFunction',
  'ResetLambdaFunction',
] as const;

/**
 * The state-table partitions a statement is limited to (`dynamodb:LeadingKeys`, under `ForAllValues:StringLike`
 * or `ForAllValues:StringEquals`), sorted; undefined when it names none (the whole table).
 */
export function leadingKeys(statement: PolicyStatement): string[] | undefined {
  const conditions = [
    statement.Condition?.['ForAllValues:StringLike'],
    statement.Condition?.['ForAllValues:StringEquals'],
  ];
  const keys = conditions.flatMap((c) =>
    list((c as Json | undefined)?.['dynamodb:LeadingKeys'] as string[] | undefined),
  );
  return keys.length > 0 ? keys.sort() : undefined;
}
