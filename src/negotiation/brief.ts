import type { ClientBrief } from '../activities/types';
import type { Client, Deadline, Need } from '../scenario/schema';

/** What the client tells every vendor up front: the needs and deadline of round 1, none of its later reveals. */
export function clientBrief(client: Client): ClientBrief {
  return {
    name: client.name,
    project: client.project,
    brief: client.brief,
    needs: client.needs,
    deadline: client.deadline,
  };
}

/** The needs the client holds by `round`: its brief plus every reveal due by then. */
export function needsKnownBy(client: Client, round: number): Need[] {
  return [...client.needs, ...client.reveals.filter((r) => r.round <= round).flatMap((r) => r.needs)];
}

/** The deadline the client insists on in `round`: the latest one it has revealed, as clients move them. */
export function deadlineAt(client: Client, round: number): Deadline {
  let deadline = client.deadline;
  for (const reveal of [...client.reveals].sort((a, b) => a.round - b.round)) {
    if (reveal.round <= round && reveal.deadline) deadline = reveal.deadline;
  }
  return deadline;
}
