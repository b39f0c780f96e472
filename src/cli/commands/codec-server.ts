import { Command, CommanderError } from 'commander';
import type { Server } from 'node:http';
import pc from 'picocolors';
import { createCodecServer } from '../../codec/codec-server';
import { payloadCodecFromEnv } from '../../codec/data-converter';
import { KEY_VARIABLE, KEYS_VARIABLE } from '../../codec/keys';
import { CliError, EXIT_BAD_INPUT } from '../errors';

/** The port `parley codec-server` listens on, and the one `parley server` points the Web UI at. */
export const DEFAULT_CODEC_PORT = 8888;
/** The Web UI of `parley server`, under both names a browser may use for it. */
export const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

interface CodecServerCommandOptions {
  port: string;
  ip: string;
  origin: string[];
  token?: string;
}

/**
 * `parley codec-server`: decode (and encode) Parley's encrypted payloads for the Temporal Web UI, with the keys in
 * PARLEY_ENCRYPTION_KEY(S), until SIGINT or SIGTERM.
 */
export function codecServerCommand(): Command {
  return new Command('codec-server')
    .description('serve the payload codec to the Temporal Web UI, so it shows encrypted payloads decoded')
    .option('--port <port>', 'port to listen on', String(DEFAULT_CODEC_PORT))
    .option('--ip <address>', 'address to bind', '127.0.0.1')
    .option(
      '--origin <url>',
      `Web UI origin allowed by CORS (repeat for several; default ${DEFAULT_UI_ORIGINS.join(' and ')})`,
      (value: string, previous: string[]) => [...previous, ...value.split(',').map((v) => v.trim())],
      [],
    )
    .option('--token <token>', 'require "Authorization: Bearer <token>" (default PARLEY_CODEC_TOKEN)')
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(EXIT_BAD_INPUT, err.code, err.message);
    })
    .action(async (options: CodecServerCommandOptions) => {
      const port = Number(options.port);
      if (!/^\d+$/.test(options.port.trim()) || port < 1 || port > 65535) {
        throw new CliError(`--port: expected a port number from 1 to 65535, got "${options.port}"`, EXIT_BAD_INPUT);
      }
      const origins = options.origin.filter(Boolean).length > 0 ? options.origin.filter(Boolean) : DEFAULT_UI_ORIGINS;
      for (const origin of origins) {
        if (!/^https?:\/\/[^/\s]+$/.test(origin.replace(/\/$/, ''))) {
          throw new CliError(
            `--origin: expected a URL origin like http://localhost:8233, got "${origin}"`,
            EXIT_BAD_INPUT,
          );
        }
      }
      const codec = payloadCodecFromEnv();
      if (!codec) {
        throw new CliError(
          `no key to serve: set ${KEY_VARIABLE} (or ${KEYS_VARIABLE}), as for the worker`,
          EXIT_BAD_INPUT,
        );
      }
      const token = options.token?.trim() || process.env.PARLEY_CODEC_TOKEN?.trim() || undefined;

      const server = createCodecServer({ codec, origins, token });
      await listen(server, port, options.ip);
      console.log(
        `Codec server ready on http://${options.ip}:${port} (keys: ${[...codec.keys.byId.keys()].join(', ')})`,
      );
      console.log(`  primary key id: ${codec.keys.primary.id}`);
      console.log(`  allowed origins: ${origins.join(', ')}`);
      console.log(`  bearer token:    ${token ? 'required' : 'none'}`);
      console.error(
        pc.dim(
          `In the Web UI, set the codec endpoint to http://localhost:${port} (or start "parley server" with the key set). Ctrl-C stops it.`,
        ),
      );

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      console.error(pc.dim(`Received ${signal}; stopping the codec server...`));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new CliError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is taken; choose another with --port`
            : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
}
