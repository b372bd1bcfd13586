// Loopback ports for the local run: a preferred one when it is free, otherwise one the system picks.

import { connect, createServer } from 'node:net';

export const HOST = '127.0.0.1';

/** True when nothing listens on `port` and we may bind it. */
export function portIsFree(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the system considers free right now (it is released again before this returns). */
export function anyFreePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `preferred` when it is free, otherwise any free port. With `strict`, a taken port is an error instead
 * (the user asked for that port).
 */
export async function choosePort(preferred: number, strict: boolean, avoid: number[] = []): Promise<number> {
  if (!avoid.includes(preferred) && (await portIsFree(preferred))) return preferred;
  if (strict)
    throw new Error(`port ${preferred} on ${HOST} is in use: stop what uses it or pick another port`);
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = await anyFreePort();
    if (!avoid.includes(port)) return port;
  }
  throw new Error('could not find a free port on the loopback interface');
}

/** True when something accepts connections on `port`. */
export function isListening(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
