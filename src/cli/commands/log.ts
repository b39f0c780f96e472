import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { closeClient, connectOrExplain } from '../context';
import { transcriptOf } from '../transcripts';

export function logCommand(): Command {
  return new Command('log')
    .description('print the transcript of a simulation or a negotiation')
    .argument('<id>', 'simulation id or negotiation id')
    .option('-o, --output <file>', 'write the transcript to a file instead of stdout')
    .action(async (id: string, options: { output?: string }) => {
      const client = await connectOrExplain();
      try {
        const transcript = await transcriptOf(client, id);
        if (options.output) await writeFile(options.output, transcript, 'utf8');
        else process.stdout.write(transcript);
      } finally {
        await closeClient(client);
      }
    });
}
