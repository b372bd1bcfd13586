// A local Serverless plugin that narrows the IAM resources the framework and plain YAML cannot express exactly:
//   - the shared role's log permissions name the log groups of the functions that use it, and no other: the
//     framework writes `/aws/lambda/<service>-<stage>*`, which also matches every stage whose name starts
//     with this one's and every function with a role of its own (cancel's, the drill's, the heartbeat's, …);
//   - GetSecretValue names each configured secret, given as a name or an ARN (Secrets Manager appends six
//     random characters to a secret's name in its ARN; a full ARN already has them, a partial one does not);
//     the Telegram secret only when TELEGRAM_SECRET_ID is set; and the roles of their own (custom.roleSecrets)
//     the secrets each names;
//   - the master secret (custom.halt.masterSecretId, when set) only to the functions that halt or reset
//     (custom.halt.functions): to a function's own role, or, on the role functions share, with a
//     `lambda:SourceFunctionArn` condition naming that function, so that no other function on it may read it.
'use strict';

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JavaScript
const LOGS_PREFIX = 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JavaScript
const SECRET_PREFIX = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:';
/** The environment settings that hold secret ids the functions read. */
const SECRET_SETTINGS = ['BYBIT_SECRET_ID', 'WEBHOOK_SECRET_ID', 'TELEGRAM_SECRET_ID'];
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JavaScript
const FUNCTION_PREFIX = 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:';

/** The IAM resources that match the secret `id` (a name, a partial ARN or a full ARN) and nothing wider. */
function secretResources(id) {
  if (!id.startsWith('arn:')) return [{ 'Fn::Sub': `${SECRET_PREFIX}${id}-??????` }];
  // Whether an ARN ends in the random suffix cannot be told from the text (a name may end in "-abcdef"):
  // allow the ARN as given, and the ARN plus a suffix. Both are the one secret.
  return [id, `${id}-??????`];
}

class BoundedIam {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.narrow() };
  }

  narrow() {
    const { service } = this.serverless;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const role = resources.IamRoleLambdaExecution;
    if (!role) return;
    const statements = role.Properties.Policies[0].PolicyDocument.Statement;
    const shared = new Set(
      service
        .getAllFunctions()
        .map((name) => service.getFunction(name))
        .filter((fn) => !fn.role)
        .map((fn) => `/aws/lambda/${fn.name}`),
    );
    const logGroups = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Logs::LogGroup')
      .map((r) => r.Properties.LogGroupName)
      .filter((name) => typeof name === 'string' && shared.has(name));
    for (const statement of statements) {
      const actions = [].concat(statement.Action);
      if (actions.some((a) => a === 'logs:PutLogEvents')) {
        statement.Resource = logGroups.map((name) => ({ 'Fn::Sub': `${LOGS_PREFIX}${name}:*:*` }));
      } else if (actions.some((a) => a === 'logs:CreateLogStream')) {
        statement.Resource = logGroups.map((name) => ({ 'Fn::Sub': `${LOGS_PREFIX}${name}:*` }));
      }
    }
    const environment = service.provider.environment ?? {};
    const ids = [...new Set(SECRET_SETTINGS.map((name) => environment[name]).filter(Boolean))];
    statements.push({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: ids.flatMap(secretResources),
    });
    const custom = service.custom ?? {};
    for (const [roleId, settings] of Object.entries(custom.roleSecrets ?? {})) {
      const secrets = settings.map((name) => environment[name]).filter(Boolean);
      if (secrets.length > 0) this.grant(roleId, secrets);
    }
    this.grantMasterSecret(custom.halt ?? {});
  }

  /** GetSecretValue on the master secret for each function that halts or resets, and no other. */
  grantMasterSecret({ masterSecretId, functions = [] }) {
    if (!masterSecretId) return;
    const { service } = this.serverless;
    for (const name of functions) {
      const fn = service.getFunction(name);
      if (fn.role) {
        this.grant(fn.role, [masterSecretId]);
        continue;
      }
      this.grant('IamRoleLambdaExecution', [masterSecretId], {
        ArnEquals: { 'lambda:SourceFunctionArn': { 'Fn::Sub': `${FUNCTION_PREFIX}${fn.name}` } },
      });
    }
  }

  /** Adds GetSecretValue on `secretIds` to the first policy of role `roleId`. */
  grant(roleId, secretIds, condition) {
    const { service } = this.serverless;
    // The roles of serverless.yml's resources join the compiled template after this hook.
    const role =
      service.provider.compiledCloudFormationTemplate.Resources[roleId] ??
      service.resources?.Resources?.[roleId];
    if (!role) throw new this.serverless.classes.Error(`bounded-iam: no role ${roleId} in the template`);
    role.Properties.Policies[0].PolicyDocument.Statement.push({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [...new Set(secretIds)].flatMap(secretResources),
      ...(condition ? { Condition: condition } : {}),
    });
  }
}

module.exports = BoundedIam;
