import { Command } from 'commander';
import { positiveInteger } from '../arguments';
import os from 'node:os';
import type { DecisionKind, DecisionRequest } from '../../workflows/messages';
import { closeClient, connectOrExplain } from '../context';
import { DecisionRefusedError, sendDecision, UnknownNegotiationError } from '../decisions';
import { CliError } from '../errors';

interface DecisionFlags {
  comment?: string;
  reason?: string;
  rounds?: number;
  by?: string;
  requestId?: string;
}

/** Sends a decision and prints where it led; a refused decision prints the workflow's reason and exits 1. */
async function decide(kind: DecisionKind, negotiationId: string, flags: DecisionFlags): Promise<void> {
  const request: DecisionRequest = {
    by: flags.by ?? os.userInfo().username,
    requestId: flags.requestId,
    comment: flags.comment,
    reason: flags.reason,
    rounds: flags.rounds,
  };
  const client = await connectOrExplain();
  try {
    const outcome = await sendDecision(client, negotiationId, kind, request);
    console.log(`${outcome.message} (by ${outcome.by})`);
  } catch (err) {
    if (err instanceof UnknownNegotiationError || err instanceof DecisionRefusedError) throw new CliError(err.message);
    throw err;
  } finally {
    await closeClient(client);
  }
}

function decisionCommand(name: string, kind: DecisionKind, description: string): Command {
  return new Command(name)
    .description(description)
    .argument('<negotiationId>')
    .option('--by <name>', 'who decides (default: your user name)')
    .option('--request-id <id>', 'makes the decision idempotent: repeating it with the same id changes nothing');
}

export function decisionCommands(): Command[] {
  return [
    decisionCommand('approve', 'approve', 'approve the proposal a negotiation waits on')
      .option('--comment <text>', 'a note kept in the transcript')
      .action((id: string, flags: DecisionFlags) => decide('approve', id, flags)),
    decisionCommand('reject', 'reject', 'reject the proposal a negotiation waits on (or close it at the round limit)')
      .requiredOption('--reason <text>', 'why, kept in the transcript')
      .action((id: string, flags: DecisionFlags) => decide('reject', id, flags)),
    decisionCommand('revise', 'requestRevision', 'send the proposal back to the vendor with a comment')
      .requiredOption('--comment <text>', 'what the vendor must change; it joins the next feedback')
      .action((id: string, flags: DecisionFlags) => decide('requestRevision', id, flags)),
    decisionCommand('extend', 'extendRounds', 'grant more rounds to a negotiation waiting at its round limit')
      .requiredOption('--rounds <n>', 'how many more rounds', positiveInteger)
      .action((id: string, flags: DecisionFlags) => decide('extendRounds', id, flags)),
  ];
}
