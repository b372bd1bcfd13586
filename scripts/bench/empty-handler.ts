// The cold-start baseline: a handler that does nothing, so the runner's and Node's own start-up cost shows.

export const handler = async () => ({ ok: true });
