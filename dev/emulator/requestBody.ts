import type { IncomingMessage } from 'node:http';

/** A request body as text, refused past `maxBytes` with `tooLarge` as the error's message. */
export async function readLimitedText(
  req: IncomingMessage,
  maxBytes: number,
  tooLarge: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(tooLarge);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
