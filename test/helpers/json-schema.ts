// Checks a command's --json output against its published JSON Schema in schemas/ (ajv, JSON Schema 2020-12).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

const schemasDir = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'schemas');
const compiled = new Map<string, ValidateFunction>();

/** Asserts that `document` (parsed --json output) is valid against schemas/`schema` (such as "check.schema.json"). */
export function assertMatchesSchema(document: unknown, schema: string): void {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = new Ajv2020({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(join(schemasDir, schema), 'utf8')) as object);
    compiled.set(schema, validate);
  }
  assert.ok(validate(document), `${schema}: ${JSON.stringify(validate.errors, null, 2)}`);
}
