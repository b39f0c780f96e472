import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { DEFAULT_DB_FILE, isTemporalReachable, startDevServer, type DevServerExit } from '../../temporal/dev-server';
import { findTemporalCli } from '../../temporal/temporal-cli';
import { encryptionConfigured } from '../../codec/data-converter';
import { DEFAULT_CODEC_PORT } from './codec-server';
import { CliError, EXIT_BAD_INPUT } from '../errors';

/** The address `parley server` binds: local only, as the dev server skips security checks. */
const SERVER_IP = '127.0.0.1';

interface ServerOptions {
  port: string;
  uiPort: string;
  db: string;
  codecEndpoint?: string;
}

/**
 * `parley server`: run a local Temporal dev server, with Parley's search attributes and a persistent SQLite file,
 * until SIGINT or SIGTERM.
 */
export function serverCommand(): Command {
  return (
    new Command('server')
      .description('run a local Temporal dev server (SQLite-backed, with the Web UI) until Ctrl-C')
      .option('--port <port>', 'gRPC port of the frontend', '7233')
      .option('--ui-port <port>', 'port of the Web UI', '8233')
      .option('--db <file>', 'SQLite file that keeps workflows across restarts', DEFAULT_DB_FILE)
      .option(
        '--codec-endpoint <url>',
        `codec server for the Web UI (default http://localhost:${DEFAULT_CODEC_PORT} when PARLEY_ENCRYPTION_KEY is set)`,
      )
      // A command added with addCommand does not inherit the program's exitOverride, and commander would otherwise
      // exit with code 1 on an unknown flag; bad input exits with 2 everywhere in Parley.
      .exitOverride((err) => {
        throw err.exitCode === 0 ? err : new CommanderError(EXIT_BAD_INPUT, err.code, err.message);
      })
      .action(async (options: ServerOptions) => {
        const port = parsePort('--port', options.port);
        const uiPort = parsePort('--ui-port', options.uiPort);
        if (port === uiPort) throw new CliError(`--port and --ui-port must differ (both are ${port})`, EXIT_BAD_INPUT);
        const dbFile = options.db.trim();
        if (!dbFile) throw new CliError('--db: expected a file path', EXIT_BAD_INPUT);

        const address = `${SERVER_IP}:${port}`;
        if (await isTemporalReachable(address, 1_000)) {
          throw new CliError(
            `a Temporal server already answers on ${address}; use it, or start another with a different --port`,
          );
        }

        const executable = await findTemporalCli();
        const uiCodecEndpoint =
          options.codecEndpoint?.trim() ||
          (encryptionConfigured() ? `http://localhost:${DEFAULT_CODEC_PORT}` : undefined);
        const server = await startDevServer({ ip: SERVER_IP, port, uiPort, dbFile, executable, uiCodecEndpoint });
        console.log(`Temporal dev server ready`);
        console.log(`  gRPC address: ${server.address}`);
        console.log(`  Web UI:       ${server.uiUrl}`);
        console.log(`  Database:     ${server.dbFile}`);
        if (uiCodecEndpoint) console.log(`  UI codec:     ${uiCodecEndpoint} (serve it with "parley codec-server")`);
        if (port !== 7233) console.error(pc.dim(`Point Parley at it with TEMPORAL_ADDRESS=${server.address}`));
        console.error(pc.dim('Ctrl-C stops it.'));

        const ended = await untilSignalOrExit(server.exited);
        if (ended.kind === 'exit') {
          const how = ended.exit.signal ? `killed by ${ended.exit.signal}` : `exit code ${ended.exit.code}`;
          const tail = server.recentOutput().slice(-20);
          throw new CliError(
            `the Temporal dev server stopped unexpectedly (${how})` +
              (tail.length > 0 ? `; its last output:\n${tail.map((line) => `  | ${line}`).join('\n')}` : ''),
          );
        }
        console.error(pc.dim(`Received ${ended.signal}; stopping the Temporal dev server...`));
        await server.stop();
        console.error(pc.dim('Stopped.'));
      })
  );
}

/** A TCP port from a flag value, or a one-line error naming the flag. */
function parsePort(flag: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CliError(`${flag}: expected a port number from 1 to 65535, got "${value}"`, EXIT_BAD_INPUT);
  }
  return port;
}

type Ended = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'exit'; exit: DevServerExit };

/** Waits for SIGINT or SIGTERM (which then no longer end the process by themselves) or for the server to exit. */
function untilSignalOrExit(exited: Promise<DevServerExit>): Promise<Ended> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      cleanup();
      resolve({ kind: 'signal', signal });
    };
    const cleanup = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void exited.then((exit) => {
      cleanup();
      resolve({ kind: 'exit', exit });
    });
  });
}
