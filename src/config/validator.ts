// The budget file's validator, compiled from the JSON Schema. The build swaps this module for the
// same validator compiled ahead of time (ajv standalone), which saves ~0.1 s on every CLI start.
import { Ajv, type ErrorObject } from "ajv";
import schema from "./budgets.schema.json" with { type: "json" };

export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: false } as const;

export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export function budgetValidator(): Validator {
  return new Ajv(AJV_OPTIONS).compile(schema);
}
