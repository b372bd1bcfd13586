// Offline CloudFormation template check against the resource database shipped in @aws-cdk/aws-service-spec.
// cfn-lint cannot be installed here; this covers the mistakes that matter for a packaged Serverless template:
// resource types, property names (at every level the spec resolves), required properties, and dangling
// Ref / Fn::GetAtt / Fn::Sub / DependsOn / Condition targets. Value types and allowed values are not checked.
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';

export interface TemplateProblem {
  /** Logical ID of the resource (or output) the problem is in; '' for template-level problems. */
  resource: string;
  /** Dotted path from the template root, e.g. `Resources.Fn.Properties.Code.S3Bucket`. */
  path: string;
  message: string;
}

// Structural views of the spec's entities: only the fields read here, so no import from the
// database's transitive type packages is needed.
interface SpecType {
  readonly type: string;
  readonly element?: SpecType;
  readonly types?: readonly SpecType[];
  readonly reference?: { readonly $ref: string };
}
interface SpecShape {
  readonly properties: Readonly<Record<string, { readonly required?: boolean; readonly type: SpecType }>>;
}
interface SpecResource extends SpecShape {
  readonly cloudFormationType: string;
  readonly cloudFormationTransform?: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}
type SpecDatabase = Awaited<ReturnType<typeof loadAwsServiceSpec>>;

const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);
const RESOURCE_ATTRIBUTES = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'Metadata',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'CreationPolicy',
  'UpdatePolicy',
]);
const CUSTOM_RESOURCE_TYPE = 'AWS::CloudFormation::CustomResource';
const NESTED_STACK_TYPE = 'AWS::CloudFormation::Stack';
const MAX_SUGGESTION_DISTANCE = 2;

let database: Promise<SpecDatabase> | undefined;

/** Loads the spec database once per process (about 0.4 s, 200 MB); a failed load is retried next call. */
function specDatabase(): Promise<SpecDatabase> {
  database ??= loadAwsServiceSpec().catch((error: unknown) => {
    database = undefined;
    throw error;
  });
  return database;
}

/** Checks a CloudFormation template (parsed JSON) against the resource specification; [] when clean. */
export async function validateTemplate(template: unknown): Promise<TemplateProblem[]> {
  const db = await specDatabase();
  const problems: TemplateProblem[] = [];
  if (!isObject(template)) {
    return [{ resource: '', path: '', message: 'template is not a JSON object' }];
  }
  const resources = isObject(template.Resources) ? template.Resources : {};
  if (Object.keys(resources).length === 0) {
    problems.push({ resource: '', path: 'Resources', message: 'a template needs at least one resource' });
  }
  const scope: Scope = {
    db,
    problems,
    resources,
    parameters: new Set(Object.keys(isObject(template.Parameters) ? template.Parameters : {})),
    conditions: new Set(Object.keys(isObject(template.Conditions) ? template.Conditions : {})),
    transforms: new Set(transformsOf(template.Transform)),
  };
  for (const [id, resource] of Object.entries(resources)) {
    checkResource(scope, id, resource);
  }
  for (const section of ['Conditions', 'Outputs'] as const) {
    const entries = template[section];
    if (!isObject(entries)) continue;
    for (const [id, entry] of Object.entries(entries)) {
      checkReferences(scope, id, `${section}.${id}`, entry);
    }
  }
  return problems;
}

interface Scope {
  readonly db: SpecDatabase;
  readonly problems: TemplateProblem[];
  readonly resources: Record<string, unknown>;
  readonly parameters: ReadonlySet<string>;
  readonly conditions: ReadonlySet<string>;
  readonly transforms: ReadonlySet<string>;
}

function checkResource(scope: Scope, id: string, resource: unknown): void {
  const base = `Resources.${id}`;
  const report = (path: string, message: string) => scope.problems.push({ resource: id, path, message });
  if (!isObject(resource)) {
    report(base, 'resource is not an object');
    return;
  }
  for (const key of Object.keys(resource)) {
    if (!RESOURCE_ATTRIBUTES.has(key)) {
      report(`${base}.${key}`, `unknown resource attribute "${key}"${suggestion(key, RESOURCE_ATTRIBUTES)}`);
    }
  }
  for (const [index, target] of dependsOnTargets(resource.DependsOn)) {
    if (!Object.hasOwn(scope.resources, target)) {
      report(`${base}.DependsOn${index}`, `DependsOn target "${target}" is not a resource in this template`);
    }
  }
  if (typeof resource.Condition === 'string' && !scope.conditions.has(resource.Condition)) {
    report(`${base}.Condition`, `condition "${resource.Condition}" is not defined in Conditions`);
  }
  checkReferences(scope, id, base, resource);

  const type = resource.Type;
  if (typeof type !== 'string') {
    report(`${base}.Type`, 'resource has no Type');
    return;
  }
  // Custom resources accept any properties the backing function understands.
  if (type.startsWith('Custom::') || type === CUSTOM_RESOURCE_TYPE) return;
  const spec = resourceSpec(scope.db, type);
  if (spec === undefined) {
    report(`${base}.Type`, `unknown resource type "${type}"`);
    return;
  }
  if (spec.cloudFormationTransform !== undefined) {
    // Transform-based types (SAM) are rewritten before CloudFormation sees them; their properties are not in the spec.
    if (!scope.transforms.has(spec.cloudFormationTransform)) {
      report(`${base}.Type`, `resource type "${type}" needs Transform "${spec.cloudFormationTransform}"`);
    }
    return;
  }
  const properties = resource.Properties ?? {};
  if (isIntrinsic(properties)) return;
  if (!isObject(properties)) {
    report(`${base}.Properties`, 'Properties is not an object');
    return;
  }
  checkShape(scope, id, spec, type, properties, `${base}.Properties`);
}

function resourceSpec(db: SpecDatabase, type: string): SpecResource | undefined {
  return db.lookup('resource', 'cloudFormationType', 'equals', type)[0];
}

/** Property names and required properties of one object against its spec shape, then its nested values. */
function checkShape(
  scope: Scope,
  id: string,
  shape: SpecShape,
  shapeName: string,
  value: Record<string, unknown>,
  path: string,
): void {
  const known = Object.keys(shape.properties);
  for (const [name, child] of Object.entries(value)) {
    const property = shape.properties[name];
    if (property === undefined) {
      scope.problems.push({
        resource: id,
        path: `${path}.${name}`,
        message: `unknown property "${name}" for ${shapeName}${suggestion(name, known)}`,
      });
      continue;
    }
    checkValue(scope, id, property.type, child, `${path}.${name}`);
  }
  for (const [name, property] of Object.entries(shape.properties)) {
    if (property.required === true && !Object.hasOwn(value, name)) {
      scope.problems.push({
        resource: id,
        path: `${path}.${name}`,
        message: `missing required property "${name}" for ${shapeName}`,
      });
    }
  }
}

/** Descends into values whose spec type resolves to a property type; anything else is not checked. */
function checkValue(scope: Scope, id: string, type: SpecType, value: unknown, path: string): void {
  if (isIntrinsic(value)) return;
  const element = type.element;
  if (type.type === 'array' && element !== undefined && Array.isArray(value)) {
    value.forEach((item, index) => {
      checkValue(scope, id, element, item, `${path}.${index}`);
    });
    return;
  }
  if (type.type === 'map' && element !== undefined && isObject(value)) {
    for (const [key, item] of Object.entries(value)) checkValue(scope, id, element, item, `${path}.${key}`);
    return;
  }
  const definition = objectDefinition(type);
  if (definition !== undefined && isObject(value)) {
    const shape = scope.db.get('typeDefinition', definition) as SpecShape & { readonly name: string };
    checkShape(scope, id, shape, `property type ${shape.name}`, value, path);
  }
}

/** The type-definition id an object value must match, when the spec makes that unambiguous. */
function objectDefinition(type: SpecType): string | undefined {
  if (type.type === 'ref') return type.reference?.$ref;
  if (type.type !== 'union' || type.types === undefined) return undefined;
  // A union that also admits free-form objects (json, map) or two shapes cannot be resolved.
  const objectLike = type.types.filter((member) => ['ref', 'json', 'map'].includes(member.type));
  const [only] = objectLike;
  return objectLike.length === 1 && only?.type === 'ref' ? only.reference?.$ref : undefined;
}

/** Ref, Fn::GetAtt and Fn::Sub targets anywhere below `value`. */
function checkReferences(scope: Scope, id: string, path: string, value: unknown): void {
  const report = (message: string) => scope.problems.push({ resource: id, path, message });
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkReferences(scope, id, `${path}.${index}`, item);
    });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, argument] of Object.entries(value)) {
    if (key === 'Ref' && typeof argument === 'string') {
      const problem = refProblem(scope, argument);
      if (problem !== undefined) report(problem);
    } else if (key === 'Fn::GetAtt') {
      const problem = getAttProblem(scope, argument);
      if (problem !== undefined) report(problem);
    } else if (key === 'Fn::Sub') {
      for (const problem of subProblems(scope, argument)) report(problem);
    }
    checkReferences(scope, id, `${path}.${key}`, argument);
  }
}

function refProblem(scope: Scope, target: string): string | undefined {
  if (target.startsWith('AWS::')) {
    return PSEUDO_PARAMETERS.has(target) ? undefined : `Ref to unknown pseudo parameter "${target}"`;
  }
  if (Object.hasOwn(scope.resources, target) || scope.parameters.has(target)) return undefined;
  return `Ref target "${target}" is not a resource or parameter in this template`;
}

function getAttProblem(scope: Scope, argument: unknown): string | undefined {
  // Both forms: ["Resource", "Attribute"] and "Resource.Attribute" (the attribute may itself contain dots).
  const [target, attribute]: unknown[] =
    typeof argument === 'string' ? splitOnce(argument, '.') : Array.isArray(argument) ? argument : [];
  if (typeof target !== 'string' || target === '' || attribute === undefined) {
    return 'Fn::GetAtt needs a logical ID and an attribute name';
  }
  const resource = scope.resources[target];
  if (!isObject(resource)) return `Fn::GetAtt target "${target}" is not a resource in this template`;
  if (typeof attribute !== 'string' || typeof resource.Type !== 'string') return undefined;
  const spec = resourceSpec(scope.db, resource.Type);
  // Custom and unknown types have no attribute list (an unknown type is reported on its own resource);
  // a nested stack exposes its outputs as `Outputs.<Name>`.
  if (spec === undefined || resource.Type === CUSTOM_RESOURCE_TYPE) return undefined;
  if (resource.Type === NESTED_STACK_TYPE && attribute.startsWith('Outputs.')) return undefined;
  if (Object.hasOwn(spec.attributes, attribute)) return undefined;
  return `Fn::GetAtt attribute "${attribute}" does not exist on ${resource.Type}${suggestion(attribute, Object.keys(spec.attributes))}`;
}

function subProblems(scope: Scope, argument: unknown): string[] {
  const [text, variables] = Array.isArray(argument) ? [argument[0], argument[1]] : [argument, undefined];
  if (typeof text !== 'string') return [];
  const local = new Set(Object.keys(isObject(variables) ? variables : {}));
  const problems: string[] = [];
  // ${!Literal} is an escaped literal, not a reference.
  for (const [, name] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
    if (name === undefined || local.has(name)) continue;
    const problem =
      name.includes('.') && !name.startsWith('AWS::')
        ? getAttProblem(scope, splitOnce(name, '.'))
        : refProblem(scope, name);
    if (problem !== undefined) problems.push(`Fn::Sub \${${name}}: ${problem}`);
  }
  return problems;
}

function dependsOnTargets(dependsOn: unknown): Array<[string, string]> {
  if (typeof dependsOn === 'string') return [['', dependsOn]];
  if (!Array.isArray(dependsOn)) return [];
  return dependsOn.flatMap(
    (target, index): Array<[string, string]> => (typeof target === 'string' ? [[`.${index}`, target]] : []),
  );
}

function splitOnce(text: string, separator: string): string[] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + separator.length)];
}

function transformsOf(transform: unknown): string[] {
  if (typeof transform === 'string') return [transform];
  return Array.isArray(transform) ? transform.filter((item) => typeof item === 'string') : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ Ref: … }` or `{ "Fn::…": … }`: its value is only known at deploy time. */
function isIntrinsic(value: unknown): boolean {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0]?.startsWith('Fn::') ?? false));
}

/** ` (did you mean "Runtime"?)` for a near miss, so a typo is fixed without opening the docs. */
function suggestion(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = MAX_SUGGESTION_DISTANCE + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
