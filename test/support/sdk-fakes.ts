// Fakes of an AWS SDK v3 client for unit tests: a sender that records each command, and a reader of the
// timeouts a real client's request handler was built with.

export interface SentCommand {
  name: string;
  input: Record<string, unknown>;
  options: { abortSignal?: AbortSignal };
}

/** A client whose `send` records each command and answers with `answer()`, or throws it when it is an Error. */
export function recordingSender<Sender>(answer: () => unknown): { client: Sender; sent: SentCommand[] } {
  const sent: SentCommand[] = [];
  const client = {
    send: async (
      command: { input: Record<string, unknown>; constructor: { name: string } },
      options: { abortSignal?: AbortSignal },
    ) => {
      sent.push({ name: command.constructor.name, input: command.input, options });
      const result = answer();
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as Sender;
  return { client, sent };
}

/** The timeouts an SDK client's request handler was built with. */
export async function handlerConfig(handler: unknown) {
  const config = await (handler as { configProvider: Promise<Record<string, unknown>> }).configProvider;
  const { connectionTimeout, requestTimeout, throwOnRequestTimeout } = config;
  return { connectionTimeout, requestTimeout, throwOnRequestTimeout };
}

/** An error with the given name, as the SDK throws them. */
export const named = (name: string, message = name) => Object.assign(new Error(message), { name });
