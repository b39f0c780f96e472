import { Client, Connection } from '@temporalio/client';
import { stripVTControlCharacters } from 'node:util';
import { registerSearchAttributes, setupCommand } from '../src/cli/commands/setup';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { PARLEY_SEARCH_ATTRIBUTES } from '../src/temporal/search-attributes';
import { findTemporalCli } from '../src/temporal/temporal-cli';

const CODEC_ENDPOINT = 'http://localhost:18888';

describe('parley setup on a server started without Parley’s search attributes', () => {
  let server: DevServer;
  let client: Client;

  beforeAll(async () => {
    server = await startDevServer({
      executable: await findTemporalCli(),
      dbFile: null,
      searchAttributes: [],
      uiCodecEndpoint: CODEC_ENDPOINT,
    });
    client = new Client({ connection: await Connection.connect({ address: server.address }), namespace: 'default' });
  });
  afterAll(async () => {
    await client?.connection.close();
    await server?.stop();
  });

  async function customAttributes(): Promise<Record<string, number>> {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    return (customAttributes ?? {}) as Record<string, number>;
  }

  /** Runs `parley setup` against the fresh server and returns what it printed. */
  async function parleySetup(): Promise<string[]> {
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    const address = process.env.TEMPORAL_ADDRESS;
    process.env.TEMPORAL_ADDRESS = server.address;
    try {
      await setupCommand().parseAsync([], { from: 'user' });
    } finally {
      process.env.TEMPORAL_ADDRESS = address;
      log.mockRestore();
    }
    // Colours off, so the lines read the same on any terminal.
    return lines.map((line) => stripVTControlCharacters(line));
  }

  it('registers every attribute once, and a second run changes nothing', async () => {
    const names = PARLEY_SEARCH_ATTRIBUTES.map((a) => a.name);
    expect(Object.keys(await customAttributes()).filter((name) => names.includes(name))).toEqual([]);

    const first = await parleySetup();
    expect(first.filter((line) => line.startsWith('added'))).toHaveLength(names.length);
    expect(first).toContain('added   ParleyStatus (Keyword)');
    expect(first).toContain('added   ParleyVersion (Int)');
    expect(first.at(-1)).toBe(`Registered ${names.length} search attribute(s) in namespace default.`);
    const registered = await customAttributes();
    expect(names.every((name) => name in registered)).toBe(true);

    const second = await parleySetup();
    expect(second.filter((line) => line.startsWith('added'))).toEqual([]);
    expect(second.filter((line) => line.startsWith('present'))).toHaveLength(names.length);
    expect(second.at(-1)).toBe('Nothing to do: every Parley search attribute exists in namespace default.');
    expect(await customAttributes()).toEqual(registered);
  });

  it('refuses, changing nothing, when an attribute exists with another type', async () => {
    const before = await customAttributes();
    await expect(
      registerSearchAttributes(client, [
        { name: 'ParleyExtraForTest', type: 'Keyword' },
        { name: 'ParleyStatus', type: 'Int' },
      ]),
    ).rejects.toThrow(/ParleyStatus is of type Keyword here, but Parley needs Int; nothing was registered/);
    expect(await customAttributes()).toEqual(before);
  });

  it('points the Web UI at the codec server it was given', async () => {
    const response = await fetch(`${server.uiUrl}/api/v1/settings`);
    const settings = (await response.json()) as { Codec?: { Endpoint?: string } };
    expect(settings.Codec?.Endpoint).toBe(CODEC_ENDPOINT);
  });
});
