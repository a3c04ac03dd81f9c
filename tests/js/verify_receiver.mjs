// A webhook receiver that checks herald's signatures with the official Standard
// Webhooks library, as a receiver author would.
//
//   node verify_receiver.mjs SECRET
//
// Listens on 127.0.0.1 (a free port) and prints {"port": N}; then, for every
// request, one JSON line: whether the signature verified, and whether a
// tampered body and a tampered timestamp were rejected. Answers 200 when the
// signature verified, 400 otherwise.
import http from "node:http";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

const webhook = new Webhook(process.argv[2]);

// verify() checks the signature, then JSON.parses the payload: a SyntaxError
// therefore means the signature matched and the payload is not JSON (herald
// sends string payloads as their bytes).
function check(body, headers) {
  try {
    webhook.verify(body, headers);
    return { verified: true, json: true };
  } catch (error) {
    if (error instanceof SyntaxError) return { verified: true, json: false };
    if (error instanceof WebhookVerificationError) return { verified: false, error: error.message };
    throw error;
  }
}

function rejects(body, headers) {
  return !check(body, headers).verified;
}

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = {
      "webhook-id": request.headers["webhook-id"],
      "webhook-timestamp": request.headers["webhook-timestamp"],
      "webhook-signature": request.headers["webhook-signature"],
    };
    const result = {
      webhook_id: headers["webhook-id"],
      signature: headers["webhook-signature"],
      ...check(body, headers),
    };
    result.tampered_body_rejected = rejects(body + " ", headers);
    const earlier = String(Number(headers["webhook-timestamp"]) - 1);
    result.tampered_timestamp_rejected = rejects(body, { ...headers, "webhook-timestamp": earlier });
    process.stdout.write(JSON.stringify(result) + "\n");
    response.writeHead(result.verified ? 200 : 400, { "Content-Type": "text/plain" });
    response.end(result.verified ? "ok" : "bad signature");
  });
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
