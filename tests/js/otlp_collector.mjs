// A stand-in OpenTelemetry collector: the test side of herald's OTLP/HTTP span
// export (issue 27). It decodes what heraldd sends with the official OTLP
// protobuf definitions -- the protobufjs code that @opentelemetry/otlp-transformer
// generated from opentelemetry-proto -- not with a parser of our own, so a
// field number or wire type that herald gets wrong shows up here.
//
//   node otlp_collector.mjs --mode accept|fail|hang --out FILE
//                           [--port-file FILE] [--fail-status N]
//
// Listens on 127.0.0.1 (a free port); prints "listening PORT" as stdout's first
// line and, with --port-file, writes PORT there (a temporary file renamed into
// place). Takes POST /v1/traces, Content-Type application/x-protobuf, the body
// optionally Content-Encoding: gzip. Appends JSON lines to --out:
//   accept: one {"span": {...}} line per span, then the request's line;
//           answers 200 with an empty ExportTraceServiceResponse. A body that
//           does not gunzip or decode gets 400 and an {"error": "..."} line.
//   fail:   answers --fail-status (500 unless told) to every request.
//   hang:   reads the request and never answers, keeping the socket open.
// Every request, in every mode, ends with one line
//   {"request": {method, path, content_type, content_encoding, headers,
//                bytes, span_count, status}}
// headers holding authorization and the x-* headers; bytes the body's length
// as received; span_count null when the body did not decode; status null in
// hang mode. A request's lines are all in --out before its answer is sent.
// Content-Type must be exactly application/x-protobuf (else 415 and an error
// line); another path or method gets 404. Exits on SIGTERM or SIGINT.
import fs from "node:fs";
import http from "node:http";
import zlib from "node:zlib";
import { parseArgs } from "node:util";
import root from "@opentelemetry/otlp-transformer/build/src/generated/root.js";

const { values: opts } = parseArgs({
  options: {
    mode: { type: "string", default: "accept" },
    out: { type: "string" },
    "port-file": { type: "string" },
    "fail-status": { type: "string", default: "500" },
  },
});
if (!["accept", "fail", "hang"].includes(opts.mode) || !opts.out) {
  console.error("usage: otlp_collector.mjs --mode accept|fail|hang --out FILE [--port-file FILE] [--fail-status N]");
  process.exit(2);
}

const { ExportTraceServiceRequest, ExportTraceServiceResponse } = root.opentelemetry.proto.collector.trace.v1;
const { SpanKind } = root.opentelemetry.proto.trace.v1.Span;
const { StatusCode } = root.opentelemetry.proto.trace.v1.Status;

const record = (line) => fs.appendFileSync(opts.out, JSON.stringify(line) + "\n");

// The generated code leaves unset fields null (pbjs --null-defaults), gives
// bytes as Buffers and 64-bit integers as Long objects (the long package).
const hex = (bytes) => (bytes ? Buffer.from(bytes).toString("hex") : "");
const decimal = (long) => (long == null ? "0" : long.toString());
const integer = (long) => {
  const number = Number(long.toString());
  return Number.isSafeInteger(number) ? number : long.toString();
};

function plain(anyValue) {
  if (!anyValue || !anyValue.value) return null;
  const field = anyValue.value; // the name of the oneof field that is set
  const v = anyValue[field];
  switch (field) {
    case "intValue": return integer(v);
    case "bytesValue": return hex(v);
    case "arrayValue": return (v.values || []).map(plain);
    case "kvlistValue": return attributes(v.values);
    default: return v; // stringValue, boolValue, doubleValue
  }
}

function attributes(keyValues) {
  return Object.fromEntries((keyValues || []).map((kv) => [kv.key, plain(kv.value)]));
}

function spans(request) {
  const lines = [];
  for (const rs of request.resourceSpans || []) {
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        const kind = s.kind ?? 0;
        lines.push({
          span: {
            trace_id: hex(s.traceId),
            span_id: hex(s.spanId),
            parent_span_id: hex(s.parentSpanId),
            trace_state: s.traceState ?? "",
            name: s.name ?? "",
            kind,
            kind_name: SpanKind[kind] ?? String(kind),
            start_time_unix_nano: decimal(s.startTimeUnixNano),
            end_time_unix_nano: decimal(s.endTimeUnixNano),
            attributes: attributes(s.attributes),
            events: (s.events || []).map((e) => ({
              name: e.name ?? "",
              time_unix_nano: decimal(e.timeUnixNano),
              attributes: attributes(e.attributes),
            })),
            links: (s.links || []).map((l) => ({
              trace_id: hex(l.traceId),
              span_id: hex(l.spanId),
              trace_state: l.traceState ?? "",
              attributes: attributes(l.attributes),
            })),
            status: {
              code: s.status?.code ?? 0,
              code_name: StatusCode[s.status?.code ?? 0],
              message: s.status?.message ?? "",
            },
            flags: s.flags ?? 0,
            resource: attributes(rs.resource?.attributes),
            scope: { name: ss.scope?.name ?? "", version: ss.scope?.version ?? "" },
          },
        });
      }
    }
  }
  return lines;
}

// Gunzips and decodes a body; throws what went wrong.
function decode(body, encoding) {
  if (encoding === "gzip") body = zlib.gunzipSync(body);
  else if (encoding && encoding !== "identity") throw new Error(`unsupported Content-Encoding ${encoding}`);
  return ExportTraceServiceRequest.decode(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => k === "authorization" || k.startsWith("x-")),
    );
    const info = {
      method: req.method,
      path: req.url,
      content_type: req.headers["content-type"] ?? null,
      content_encoding: req.headers["content-encoding"] ?? null,
      headers,
      bytes: body.length,
      span_count: null,
      status: null,
    };
    let decoded = null;
    let error = null;
    try {
      decoded = decode(body, req.headers["content-encoding"]);
      info.span_count = spans(decoded).length;
    } catch (e) {
      error = e.message;
    }

    // The request's lines are written before the answer goes out, so a test
    // that has its answer finds them in --out.
    const answer = (status, payload = Buffer.alloc(0), type = "text/plain") => {
      info.status = status;
      record({ request: info });
      res.writeHead(status, { "Content-Type": type, "Content-Length": payload.length });
      res.end(payload);
    };

    if (opts.mode === "hang") {
      record({ request: info }); // and never answer: the client gives up or we exit
    } else if (opts.mode === "fail") {
      answer(Number(opts["fail-status"]), Buffer.from("failing on purpose\n"));
    } else if (req.method !== "POST" || req.url !== "/v1/traces") {
      answer(404, Buffer.from("not found\n"));
    } else if (req.headers["content-type"] !== "application/x-protobuf") {
      record({ error: `unsupported Content-Type ${req.headers["content-type"]}` });
      answer(415, Buffer.from("unsupported media type\n"));
    } else if (error) {
      record({ error });
      answer(400, Buffer.from(error + "\n"));
    } else {
      for (const line of spans(decoded)) record(line);
      answer(200, Buffer.from(ExportTraceServiceResponse.encode({}).finish()), "application/x-protobuf");
    }
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  if (opts["port-file"]) {
    const tmp = `${opts["port-file"]}.tmp${process.pid}`;
    fs.writeFileSync(tmp, `${port}\n`);
    fs.renameSync(tmp, opts["port-file"]);
  }
  console.log(`listening ${port}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.closeAllConnections(); // hang mode holds sockets open
    server.close(() => process.exit(0));
  });
}
