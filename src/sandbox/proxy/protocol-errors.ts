import { randomUUID } from "node:crypto";
import type { Protocol } from "./classify.js";

/** An HTTP answer the proxy makes up instead of moto's. */
export interface SyntheticResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The error code, status and message AWS gives for a fault kind, per service. */
export interface ErrorShape {
  status: number;
  code: string;
  message: string;
}

const THROTTLE: Record<Protocol, ErrorShape> = {
  restJson1: { status: 429, code: "ThrottlingException", message: "Rate exceeded" },
  restXml: { status: 400, code: "Throttling", message: "Rate exceeded" },
  awsJson1_0: { status: 400, code: "ThrottlingException", message: "Rate exceeded" },
  awsJson1_1: { status: 400, code: "ThrottlingException", message: "Rate exceeded" },
  awsQuery: { status: 400, code: "Throttling", message: "Rate exceeded" },
  ec2Query: { status: 503, code: "RequestLimitExceeded", message: "Request limit exceeded." },
};

// The server-side error each service models (so the SDK builds that class), else AWS's generic one.
const SERVER_ERROR_CODES: Record<string, string> = {
  eks: "ServerException",
  ecr: "ServerException",
  secretsmanager: "InternalServiceError",
  ssm: "InternalServerError",
  ec2: "InternalError",
};

/** The error AWS answers for a throttled call of this protocol. */
export function throttleError(protocol: Protocol): ErrorShape {
  return THROTTLE[protocol];
}

/** The error AWS answers for an internal failure of this service. */
export function serverError(service: string): ErrorShape {
  return {
    status: 500,
    code: SERVER_ERROR_CODES[service] ?? "InternalFailure",
    message: "We encountered an internal error. Please try again.",
  };
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An error response in the body format of `protocol`, as the SDK parses AWS's own. */
export function errorResponse(protocol: Protocol, error: ErrorShape): SyntheticResponse {
  const requestId = randomUUID();
  const code = xmlEscape(error.code);
  const message = xmlEscape(error.message);
  const type = error.status >= 500 ? "Receiver" : "Sender";
  switch (protocol) {
    case "restJson1":
      return {
        status: error.status,
        headers: {
          "content-type": "application/json",
          "x-amzn-errortype": error.code,
          "x-amzn-requestid": requestId,
        },
        body: JSON.stringify({ message: error.message }),
      };
    case "awsJson1_0":
    case "awsJson1_1":
      return {
        status: error.status,
        headers: {
          "content-type": `application/x-amz-json-${protocol === "awsJson1_0" ? "1.0" : "1.1"}`,
          "x-amzn-requestid": requestId,
        },
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
    case "ec2Query":
      return {
        status: error.status,
        headers: { "content-type": "text/xml;charset=UTF-8" },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    case "awsQuery":
    case "restXml":
      return {
        status: error.status,
        headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}

/** A 200 whose body no parser of this protocol accepts (a truncated or corrupted answer). */
export function garbageResponse(protocol: Protocol, noise: string): SyntheticResponse {
  const json = protocol === "restJson1" || protocol.startsWith("awsJson");
  return {
    status: 200,
    headers: { "content-type": json ? "application/json" : "text/xml" },
    body: json ? `{"garbage": ${noise}` : `<?xml version="1.0"?><Garbage>${noise}</Garb`,
  };
}
