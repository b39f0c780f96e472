import { Command, InvalidArgumentError } from 'commander';
import { buildOpsServer } from '../../ops/server';
import { closeClient, connectOrExplain } from '../context';
import { CliError, EXIT_BAD_INPUT } from '../errors';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
}

export function opsServerCommand(): Command {
  return new Command('ops-server')
    .description('serve an HTTP API for ops tools: list, inspect and decide negotiations (needs PARLEY_OPS_TOKEN)')
    .option('--port <port>', 'port to listen on', port, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (options: { port: number; host: string }) => {
      const token = process.env.PARLEY_OPS_TOKEN?.trim();
      if (!token)
        throw new CliError(
          'PARLEY_OPS_TOKEN is not set: the ops server refuses to start without a bearer token',
          EXIT_BAD_INPUT,
        );
      const client = await connectOrExplain();
      const app = buildOpsServer(client, token);
      try {
        const address = await app.listen({ port: options.port, host: options.host });
        console.error(`Ops API on ${address}; Ctrl-C stops it`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      } finally {
        await app.close();
        await closeClient(client);
      }
    });
}
