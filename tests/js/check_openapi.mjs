// The OpenAPI contract check (make integration runs it after the suite):
//
//   node check_openapi.mjs SPEC ROUTES RESPONSES_DIR
//
// SPEC is docs/openapi.yaml; ROUTES is `heraldd --list-routes`; RESPONSES_DIR
// holds what the integration tests received (tests/integration/harness.py writes
// one JSON line per answer, and per delivery its receivers got, when
// HERALD_CONTRACT_DIR is set).
//
// 1. Every route in heraldd's table is described, and nothing described is
//    missing from the table (so nothing undocumented is served), with the same
//    "needs a token or not".
// 2. Every answer received is described: its operation (or, for a path or method
//    no route has, a 404 or 405 error), its status, its content type; and every
//    JSON body validates against the described schema (Ajv, JSON Schema 2020-12,
//    the dialect of OpenAPI 3.1).
// 3. Every delivery the tests' receivers got carries the headers the webhooks
//    section describes, each matching its schema.
// Prints a summary and each kind of failure once (with how often and one
// example); exits 1 on any failure.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const [specPath, routesPath, responsesDir] = process.argv.slice(2);
if (!responsesDir) {
  console.error("usage: node check_openapi.mjs SPEC ROUTES RESPONSES_DIR");
  process.exit(2);
}
const spec = YAML.parse(readFileSync(specPath, "utf8"));
const failures = new Map(); // message -> {count, example}
function fail(message, example) {
  const known = failures.get(message);
  if (known) known.count++;
  else failures.set(message, { count: 1, example });
}

// ---- 1. the route table against the description ----
const methods = ["get", "post", "put", "patch", "delete"];
const described = new Map(); // "GET /v1/tasks" -> operation
for (const [path, item] of Object.entries(spec.paths)) {
  for (const method of methods) {
    if (item[method]) described.set(`${method.toUpperCase()} ${path}`, item[method]);
  }
}
const routes = readFileSync(routesPath, "utf8").trim().split("\n").map((line) => line.split(" "));
for (const [method, pattern, visibility] of routes) {
  const key = `${method} ${pattern}`;
  const operation = described.get(key);
  if (!operation) {
    fail(`route ${key} is served but not described`);
    continue;
  }
  const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
  if (isPublic !== (visibility === "public"))
    fail(`route ${key}: the description says ${isPublic ? "public" : "token needed"}, heraldd the other`);
}
for (const key of described.keys()) {
  if (!routes.some(([method, pattern]) => `${method} ${pattern}` === key))
    fail(`${key} is described but heraldd has no such route`);
}

// ---- 2. every answer received ----
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
ajv.addSchema({ $id: "openapi.json", components: spec.components });
const validators = new Map();
function validatorFor(schema) {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) {
    // Local references point into the components of the document added above.
    const rewritten = JSON.parse(key.replaceAll('"#/components/', '"openapi.json#/components/'));
    validators.set(key, ajv.compile(rewritten));
  }
  return validators.get(key);
}
function resolve(object) {
  while (object && object.$ref) {
    const parts = object.$ref.replace(/^#\//, "").split("/");
    object = parts.reduce((node, part) => node[part], spec);
  }
  return object;
}
const templates = [...Object.keys(spec.paths)]
  // Literal paths first: /v1/tasks/batch is never /v1/tasks/{id}.
  .sort((a, b) => (a.includes("{") ? 1 : 0) - (b.includes("{") ? 1 : 0))
  .map((path) => ({ path, regex: new RegExp("^" + path.replace(/\{[^}]+\}/g, "[^/]+") + "$") }));
const errorSchema = { $ref: "#/components/schemas/Error" };

let records = 0;
let webhooks = 0;
const operationsSeen = new Set();
const statusesSeen = new Set();
for (const file of readdirSync(responsesDir).filter((name) => name.endsWith(".jsonl"))) {
  for (const line of readFileSync(join(responsesDir, file), "utf8").split("\n")) {
    if (!line) continue;
    const record = JSON.parse(line);
    if (file.startsWith("webhooks-")) {
      webhooks++;
      checkWebhook(record);
    } else {
      records++;
      check(record);
    }
  }
}

// A delivery the tests' receivers got: each header the webhooks section
// describes is there when required and matches its schema.
function checkWebhook(record) {
  const headers = Object.fromEntries(
    Object.entries(record.headers).map(([name, value]) => [name.toLowerCase(), value]));
  for (const parameter of spec.webhooks.notification.post.parameters) {
    const value = headers[parameter.name.toLowerCase()];
    if (value === undefined) {
      if (parameter.required) fail(`webhook: header ${parameter.name} is missing`, JSON.stringify(headers));
      continue;
    }
    const typed = parameter.schema.type === "integer" && /^-?[0-9]+$/.test(value) ? Number(value) : value;
    const validate = validatorFor(parameter.schema);
    if (!validate(typed))
      fail(`webhook: header ${parameter.name} ${validate.errors[0].message}`, `${parameter.name}: ${value}`);
  }
}

function check(record) {
  const path = record.path.split("?")[0];
  const method = record.method.toUpperCase();
  const where = `${method} ${record.path} -> ${record.status}`;
  const isJson = record.content_type.startsWith("application/json");
  if (record.status === 414 || record.status === 431) return; // libmicrohttpd's own plain answers
  const template = templates.find((t) => t.regex.test(path));
  const item = template && spec.paths[template.path];
  const operation = item && item[(method === "HEAD" ? "GET" : method).toLowerCase()];
  if (!operation) {
    // Not a route: a JSON error, 404 for an unknown path, 405 with Allow for a wrong method.
    const expected = item ? 405 : 404;
    if (![expected, 400, 401, 413, 501].includes(record.status))
      fail(`${item ? "a method the path does not take" : "an unknown path"} answered ${record.status}, expected ${expected}`, where);
    if (expected === 405 && record.status === 405 && !record.allow)
      fail("a 405 without Allow", where);
    if (method !== "HEAD") validateBody(errorSchema, record, where, `error ${record.status}`);
    return;
  }
  const operationKey = `${method === "HEAD" ? "GET" : method} ${template.path}`;
  operationsSeen.add(operationKey);
  const response = resolve(operation.responses[String(record.status)]);
  if (!response) {
    fail(`${operationKey}: status ${record.status} is not described`, where);
    return;
  }
  statusesSeen.add(`${operationKey} ${record.status}`);
  if (method === "HEAD" || !response.content) return;
  const types = Object.keys(response.content);
  const type = types.find((t) => record.content_type.split(";")[0].trim() === t);
  if (!type) {
    fail(`${operationKey} ${record.status}: content type ${record.content_type} is not described (${types.join(", ")})`, where);
    return;
  }
  if (isJson) validateBody(response.content[type].schema, record, where, `${operationKey} ${record.status}`);
}

function validateBody(schema, record, where, label) {
  let body;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    fail(`${label}: the body is not JSON`, where);
    return;
  }
  const validate = validatorFor(schema);
  if (!validate(body)) {
    const error = validate.errors[0];
    fail(`${label}: ${error.instancePath || "(body)"} ${error.message} ${JSON.stringify(error.params)}`,
         `${where}: ${record.body.slice(0, 300)}`);
  }
}

console.log(`openapi: ${routes.length} routes, ${described.size} described operations, ` +
            `${Object.keys(spec.components.schemas).length} schemas; ${records} answers and ` +
            `${webhooks} deliveries checked ` +
            `(${operationsSeen.size} operations, ${statusesSeen.size} operation/status pairs seen)`);
const unseen = [...described.keys()].filter((key) => !operationsSeen.has(key));
if (unseen.length) console.log(`openapi: operations no test called: ${unseen.join(", ")}`);
for (const [message, { count, example }] of failures)
  console.log(`openapi: FAIL ${message} (${count}x)${example ? `\n    e.g. ${example}` : ""}`);
process.exit(failures.size ? 1 : 0);
