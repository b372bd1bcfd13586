// The stack a packaged template would deploy: its Conditions evaluated the way CloudFormation evaluates them
// (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition; Ref to a parameter takes its default or a given value),
// resources and outputs whose condition is false left out, and Fn::If replaced by the branch it takes
// (AWS::NoValue removes the property or list item). What cannot be evaluated offline throws.

type Json = Record<string, unknown>;

export interface Template {
  Parameters?: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties?: Json; [key: string]: unknown }>;
  Outputs?: Record<string, { Condition?: string; Value: unknown; [key: string]: unknown }>;
  [key: string]: unknown;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** The value of each condition of the template. */
export function evaluateConditions(template: Template, parameters: Record<string, string> = {}) {
  const values = new Map<string, boolean>();
  const definitions = template.Conditions ?? {};
  const literal = (value: unknown): string => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      return String(value);
    if (isObject(value) && typeof value.Ref === 'string') {
      const name = value.Ref;
      const given = parameters[name] ?? template.Parameters?.[name]?.Default;
      if (given !== undefined) return String(given);
    }
    throw new Error(`cannot evaluate ${JSON.stringify(value)} offline`);
  };
  const evaluate = (expression: unknown): boolean => {
    if (!isObject(expression)) throw new Error(`not a condition: ${JSON.stringify(expression)}`);
    const [[fn, args]] = Object.entries(expression) as [[string, unknown[]]];
    switch (fn) {
      case 'Fn::Equals':
        return literal(args[0]) === literal(args[1]);
      case 'Fn::Not':
        return !evaluate(args[0]);
      case 'Fn::And':
        return args.every(evaluate);
      case 'Fn::Or':
        return args.some(evaluate);
      case 'Condition':
        return condition(args as unknown as string);
      default:
        throw new Error(`unknown condition function ${fn}`);
    }
  };
  const condition = (name: string): boolean => {
    const known = values.get(name);
    if (known !== undefined) return known;
    if (!(name in definitions)) throw new Error(`no condition named ${name}`);
    const value = evaluate(definitions[name]);
    values.set(name, value);
    return value;
  };
  for (const name of Object.keys(definitions)) condition(name);
  return condition;
}

/** The resources and outputs CloudFormation would create from the template, with every Fn::If resolved. */
export function deployedTemplate(template: Template, parameters: Record<string, string> = {}): Template {
  const condition = evaluateConditions(template, parameters);
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve).filter((item) => item !== NO_VALUE);
    if (!isObject(value)) return value;
    if (value.Ref === 'AWS::NoValue') return NO_VALUE;
    const ifArgs = value['Fn::If'];
    if (Array.isArray(ifArgs) && Object.keys(value).length === 1) {
      const [name, whenTrue, whenFalse] = ifArgs as [string, unknown, unknown];
      return resolve(condition(name) ? whenTrue : whenFalse);
    }
    const out: Json = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = resolve(item);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  };
  const kept = <T extends { Condition?: string }>(entries: Record<string, T> | undefined) =>
    Object.fromEntries(
      Object.entries(entries ?? {})
        .filter(([, entry]) => entry.Condition === undefined || condition(entry.Condition))
        .map(([id, entry]) => [id, resolve(entry) as T]),
    );
  return { ...template, Resources: kept(template.Resources), Outputs: kept(template.Outputs) };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
