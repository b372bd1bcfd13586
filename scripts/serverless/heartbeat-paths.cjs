// A local Serverless plugin for the heartbeat's two paths (serverless.yml, custom.heartbeat):
//   - the IAM path, the default for bots that can hold AWS credentials: HEARTBEAT_INVOKER_ARN names the one
//     principal (a role or user ARN, or an account id) that may invoke the heartbeat function; a malformed one
//     fails the package here rather than the deploy later;
//   - the HTTP route, `POST /heartbeat`, for bots that cannot: with HEARTBEAT_HTTP=false it does not exist at
//     all: the function loses its httpApi event, and the stage loses the route's throttle (RouteSettings may
//     only name routes that exist).
'use strict';

const ROUTE = 'POST /heartbeat';
const PRINCIPAL = /^(arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}|\d{12})$/;

class HeartbeatPaths {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      // A wrong value fails before anything is built.
      'before:package:initialize': () => this.settings(),
      // Before the events become routes.
      'before:package:compileEvents': () => this.removeRoute(),
      // After serverless.yml's resources (the stage's RouteSettings) are merged in.
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.removeThrottle(),
      // The local run serves the same routes as the package.
      'before:offline:start:init': () => this.removeRoute(),
    };
  }

  /** Whether the route exists (the default), and the function's name in serverless.yml. */
  settings() {
    const settings = this.serverless.service.custom?.heartbeat ?? {};
    const ServerlessError = this.serverless.classes.Error;
    const http = String(settings.http ?? true);
    if (http !== 'true' && http !== 'false')
      throw new ServerlessError(`HEARTBEAT_HTTP is "${http}": use true or false`);
    const invoker = String(settings.invoker ?? '');
    if (invoker !== '' && !PRINCIPAL.test(invoker)) {
      throw new ServerlessError(
        `HEARTBEAT_INVOKER_ARN is "${invoker}": use the ARN of an IAM role or user (arn:aws:iam::<account>:role/<name>), an account id, or nothing`,
      );
    }
    return { http: http === 'true', function: settings.function ?? 'heartbeat' };
  }

  removeRoute() {
    const settings = this.settings();
    if (settings.http) return;
    const heartbeat = this.serverless.service.getFunction(settings.function);
    heartbeat.events = (heartbeat.events ?? []).filter((event) => !event.httpApi);
  }

  removeThrottle() {
    if (this.settings().http) return;
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const stage = resources.HttpApiStage?.Properties;
    if (!stage?.RouteSettings) return;
    delete stage.RouteSettings[ROUTE];
    if (Object.keys(stage.RouteSettings).length === 0) delete stage.RouteSettings;
  }
}

module.exports = HeartbeatPaths;
