import type { Client } from '@temporalio/client';
import { Command } from 'commander';
import pc from 'picocolors';
import { temporalTarget } from '../../temporal/connection';
import { PARLEY_SEARCH_ATTRIBUTES, type SearchAttributeDefinition } from '../../temporal/search-attributes';
import { indexedValueType, typeName } from '../../temporal/search-attribute-types';
import { closeClient, connectOrExplain } from '../context';
import { CliError } from '../errors';

export interface SetupReport {
  namespace: string;
  /** Registered by this run. */
  added: SearchAttributeDefinition[];
  /** Already there with the right type. */
  present: SearchAttributeDefinition[];
}

/**
 * Registers Parley's search attributes in the client's namespace through the operator service, skipping those that
 * exist. Refuses, changing nothing, when one exists with another type.
 */
export async function registerSearchAttributes(
  client: Client,
  definitions: readonly SearchAttributeDefinition[] = PARLEY_SEARCH_ATTRIBUTES,
): Promise<SetupReport> {
  const namespace = client.options.namespace;
  const operator = client.connection.operatorService;
  const { customAttributes } = await operator.listSearchAttributes({ namespace });
  const existing = (customAttributes ?? {}) as Record<string, number>;
  const report: SetupReport = { namespace, added: [], present: [] };
  const conflicts: string[] = [];
  for (const definition of definitions) {
    const actual = existing[definition.name];
    if (actual === undefined) report.added.push(definition);
    else if (actual === indexedValueType(definition.type)) report.present.push(definition);
    else conflicts.push(`${definition.name} is of type ${typeName(actual)} here, but Parley needs ${definition.type}`);
  }
  if (conflicts.length > 0) {
    throw new CliError(
      `namespace ${namespace}: ${conflicts.join('; ')}; nothing was registered (remove or rename the conflicting ` +
        'attribute, or use another namespace)',
    );
  }
  if (report.added.length > 0) {
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(report.added.map((d) => [d.name, indexedValueType(d.type)])),
    });
  }
  return report;
}

/** `parley setup`: make a Temporal server ready for Parley (its search attributes); safe to run again. */
export function setupCommand(): Command {
  return new Command('setup')
    .description("register Parley's search attributes on the server at TEMPORAL_ADDRESS (idempotent)")
    .action(async () => {
      const target = temporalTarget();
      const client = await connectOrExplain(target);
      try {
        let report: SetupReport;
        try {
          report = await registerSearchAttributes(client);
        } catch (error) {
          if (error instanceof CliError) throw error;
          throw new CliError(
            `cannot register search attributes in namespace ${target.namespace} at ${target.address}: ` +
              `${(error as Error).message.split('\n')[0]} (hosted servers may need their own tooling, e.g. tcld)`,
          );
        }
        for (const d of report.added) console.log(`${pc.green('added  ')} ${d.name} (${d.type})`);
        for (const d of report.present) console.log(`${pc.dim('present')} ${d.name} (${d.type})`);
        console.log(
          report.added.length > 0
            ? `Registered ${report.added.length} search attribute(s) in namespace ${report.namespace}.`
            : `Nothing to do: every Parley search attribute exists in namespace ${report.namespace}.`,
        );
      } finally {
        await closeClient(client);
      }
    });
}
