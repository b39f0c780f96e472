/** What a model charges, in US dollars per million tokens. */
export interface Price {
  promptPerMillion: number;
  completionPerMillion: number;
}

/** Dollars for a number of tokens at a price; pure, so workflow code can use it. */
export function costOf(tokens: { prompt: number; completion: number }, price: Price): number {
  return (tokens.prompt * price.promptPerMillion + tokens.completion * price.completionPerMillion) / 1_000_000;
}
