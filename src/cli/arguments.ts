import { InvalidArgumentError } from 'commander';

/** Parsers for numeric flags; commander turns what they throw into one line naming the flag, and exit code 2. */

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return n;
}

/** A workflow cache size: the SDK turns a cache of one into two, so the worker would run with another size than asked. */
export function cacheSize(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isInteger(n) || n < 0 || n === 1)
    throw new InvalidArgumentError('expected 0 (no cache) or a whole number from 2');
  return n;
}

/** Workflow pollers: the SDK refuses fewer than two while the workflow cache is on (one polls the sticky queue). */
export function workflowPollerCount(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isInteger(n) || n < 2) throw new InvalidArgumentError('expected a whole number from 2');
  return n;
}
