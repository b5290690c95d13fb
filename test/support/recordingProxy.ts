import { readFileSync } from 'node:fs';
import https from 'node:https';
import { ensureDevCertificate } from '../../dev/emulator/certificate';
import { closeServers, listenOnLoopback, portOf } from '../../dev/loopback';
import { TEST_CERT_DIR } from './emulatorProcess';

/**
 * An https proxy in front of the emulator's server-to-server endpoints that records every
 * body going through (token requests with code, verifier and client secret; token responses
 * with access, ID and refresh tokens), so a test knows the secrets that crossed the wire.
 * It presents the emulator's own certificate, so the app trusts it as it trusts the emulator,
 * and rewrites the discovery document's token endpoint to itself. Started before the stack
 * (the app needs its address), pointed at the emulator once that runs.
 */

export interface RecordingProxy {
  port: number;
  /** Where requests go: `https://localhost:<emulator port>`. */
  setTarget(origin: string): void;
  /** Every request and response body seen so far. */
  bodies(): string[];
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const paths = await ensureDevCertificate(TEST_CERT_DIR);
  const cert = readFileSync(paths.certPath);
  const key = readFileSync(paths.keyPath);
  const recorded: string[] = [];
  let target: URL | undefined;
  let ownOrigin = '';

  const servers = await listenOnLoopback(0, () =>
    https.createServer({ cert, key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        recorded.push(body.toString('utf8'));
        if (!target) {
          res.writeHead(503).end();
          return;
        }
        const upstream = https.request(
          new URL(req.url ?? '/', target),
          {
            method: req.method,
            headers: { ...req.headers, host: target.host, 'accept-encoding': 'identity' },
            ca: cert,
          },
          (answer) => {
            const parts: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => parts.push(chunk));
            answer.on('end', () => {
              let text = Buffer.concat(parts).toString('utf8');
              recorded.push(text);
              if (req.url?.includes('/.well-known/openid-configuration')) {
                const document = JSON.parse(text) as Record<string, unknown>;
                document.token_endpoint = String(document.token_endpoint).replace(
                  target!.origin,
                  ownOrigin,
                );
                text = JSON.stringify(document);
              }
              const headers = { ...answer.headers };
              delete headers['content-length'];
              delete headers['transfer-encoding'];
              res.writeHead(answer.statusCode ?? 502, headers).end(text);
            });
          },
        );
        upstream.on('error', () => res.writeHead(502).end());
        upstream.end(body);
      });
    }),
  );
  const port = portOf(servers);
  ownOrigin = `https://localhost:${port}`;
  return {
    port,
    setTarget: (origin) => {
      target = new URL(origin);
    },
    bodies: () => [...recorded],
    close: () => closeServers(servers),
  };
}
