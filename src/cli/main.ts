import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { EncryptionKeyError } from '../codec/keys';
import { parleyDataConverter } from '../codec/data-converter';
import { ScenarioError } from '../scenario/load';
import { codecServerCommand } from './commands/codec-server';
import { decisionCommands } from './commands/decide';
import { demoCommand } from './commands/demo';
import { listCommand } from './commands/list';
import { opsServerCommand } from './commands/ops-server';
import { logCommand } from './commands/log';
import { runCommand } from './commands/run';
import { serverCommand } from './commands/server';
import { setupCommand } from './commands/setup';
import { statusCommand } from './commands/status';
import { workerCommand } from './commands/worker';
import { CliError, EXIT_BAD_INPUT } from './errors';

const program = new Command('parley')
  .description('Durable AI negotiations between clients and vendors, on Temporal')
  .exitOverride()
  .addCommand(serverCommand())
  .addCommand(workerCommand())
  .addCommand(runCommand())
  .addCommand(statusCommand())
  .addCommand(logCommand())
  .addCommand(listCommand())
  .addCommand(opsServerCommand())
  .addCommand(demoCommand())
  .addCommand(setupCommand())
  .addCommand(codecServerCommand())
  // Bad key material is reported once, naming the variable, before any command connects anywhere.
  .hook('preAction', () => void parleyDataConverter());
for (const command of decisionCommands()) program.addCommand(command);
// Commander's own usage errors (an unknown flag, a bad choice) surface as exceptions, handled below.
for (const command of program.commands) command.exitOverride();

/** The one place where failures become a line on stderr and an exit code. */
async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    // A command that finished but has something to report (a run with failed negotiations) sets the code itself.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    if (err instanceof ScenarioError) {
      for (const problem of err.problems) console.error(pc.red(problem));
      return EXIT_BAD_INPUT;
    }
    if (err instanceof EncryptionKeyError) {
      console.error(pc.red(`parley: ${err.message}`));
      return EXIT_BAD_INPUT;
    }
    if (err instanceof CliError) {
      console.error(pc.red(`parley: ${err.message}`));
      return err.exitCode;
    }
    console.error(pc.red(`parley: ${(err as Error).message ?? String(err)}`));
    return 1;
  }
}

void main(process.argv).then((code) => {
  process.exitCode = code;
  // A failure has been reported in full by now; the Temporal SDK's native runtime, once started, would otherwise
  // keep the process alive after a worker that could not start.
  if (code !== 0) process.exit(code);
});
