/** The id of the negotiation between `client` and `vendor` in a simulation: readable, and unique per pair. */
export function negotiationIdFor(simulationId: string, client: string, vendor: string): string {
  return `${simulationId}.${slug(client)}.${slug(vendor)}`;
}

/** Lowercase words joined by dashes; letters of any script are kept so CJK names stay readable. */
export function slug(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

/** The key of a client–vendor pair in a recording. */
export function recordingKey(client: string, vendor: string): string {
  return `${client}|${vendor}`;
}
