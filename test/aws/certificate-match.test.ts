import { describe, expect, it } from "vitest";
import { coversName } from "../../src/aws/account.js";

// Which certificate names cover a host name, as TLS checks them (RFC 6125): what AcmApi's
// certificateFor matches an HTTPS listener's domain by. The sandbox test of the lookup itself
// (key types, SANs, wildcards, the latest expiry) is test/aws/certificates.test.ts.

describe("a certificate name covers a host", () => {
  it.each([
    ["webapp.example.com", "webapp.example.com", true],
    ["WebApp.Example.com", "webapp.example.com.", true],
    ["*.example.com", "shop.example.com", true],
    ["*.example.com", "example.com", false],
    ["*.example.com", "a.shop.example.com", false],
    ["*.example.com", "shopexample.com", false],
    ["shop.example.com", "www.shop.example.com", false],
    ["*.shop.example.com", "www.shop.example.com", true],
  ])("%s covers %s: %s", (pattern, host, covered) => {
    expect(coversName(pattern, host)).toBe(covered);
  });
});
