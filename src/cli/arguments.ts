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

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number from 0');
  return n;
}
