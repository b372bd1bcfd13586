// A person confirms something that changes a live stage by typing its name (as GitHub asks for a
// repository's before deleting it): a habit of pressing Enter cannot reset a halt or fire at mainnet.

import { createInterface } from 'node:readline/promises';

export interface Terminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream;
}

/**
 * Asks the person to type `stage` after `question`; true when they did. False at once when `input` is not a
 * terminal: a script cannot type, and must say so itself (`--yes`).
 */
export async function typedStage(
  stage: string,
  question: string,
  terminal: Terminal = { input: process.stdin, output: process.stdout },
): Promise<boolean> {
  if (terminal.input.isTTY !== true) return false;
  const prompt = createInterface({ input: terminal.input, output: terminal.output, terminal: false });
  try {
    const answer = await prompt.question(`${question}\nType the stage name (${stage}) to go on: `);
    return answer.trim() === stage;
  } catch {
    // The input closed before a line came (Ctrl-D): nothing was confirmed.
    return false;
  } finally {
    prompt.close();
  }
}
