/** `1 negotiation`, `3 negotiations`: a count with its noun, for lines people read. Plain, so workflows may use it. */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
