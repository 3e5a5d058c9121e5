/**
 * SDK v3 client settings for the sandbox's own calls to moto: direct (not through the recording
 * proxy), dummy keys, and timeouts, so that a stalled moto fails a poll instead of hanging it.
 */
export function motoSdkConfig(motoUrl: string, region: string) {
  return {
    endpoint: motoUrl,
    region,
    credentials: { accessKeyId: "sandbox", secretAccessKey: "sandbox" },
    requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
    maxAttempts: 2,
  };
}
