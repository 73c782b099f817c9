// The report's validator, compiled from its JSON Schema. The build swaps this module for the same
// validator compiled ahead of time (ajv standalone), so reading a report does not load ajv.
import { Ajv, type ErrorObject } from "ajv";
import schema from "./report.schema.json" with { type: "json" };

export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export function reportValidator(): Validator {
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}
