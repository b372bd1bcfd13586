import { describe, expect, it } from 'vitest';
import { createSigner, signaturePayload } from '../../lib/bybit/sign.ts';

// Expected values computed outside this code base with openssl:
//   printf '%s' "$PAYLOAD" | openssl dgst -sha256 -hmac "$SECRET" -hex
//   printf '%s' "$PAYLOAD" | openssl dgst -sha256 -sign test-key.pem | base64 -w0
const apiKey = 'XXXXXXXXXXXXXXXXXX';
const apiSecret = 'YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY';
const timestamp = 1672219779140;
const body = '{"category":"linear","symbol":"BTCUSDT","orderId":"c6f055d9-7f21-4079-913d-e6523a9cfffa"}';
const query = 'category=linear&settleCoin=USDT&limit=50';

// A throwaway 1024-bit key made for this test only; it signs nothing anywhere else.
const testOnlyPrivateKey = `-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAMKJNC/ShGSWuXD7
pFocXhdh8Z4mwWX+PkDIMLPTYR/lDHjNsXk2KxKiDdLZsSiaN9Gz3G2KZslEbR9i
huhVwn6DOMCUS5SKCcPYpppCH+D0MdEsluc6H1EAkhDdhQCMkjX1UELyjCznI3+r
7yVlaxLsyOIZHmduWae4Fak8tCcxAgMBAAECgYBvDrESVBZs7nczfxWWs/crVij/
5pQmS/zyMtdK8fPSp4p1NMiKsFfqrUVDCDBRQ6l2OD4w8wA3Cq9ZaYAnBz6exmhI
/ZS1DlN6HHSSENdG/ByHaJZyOopotR3b7twy5U05jBtYmnINX+5l8L14j6SrWyR5
dPaIjC3mShiAsBLYAQJBAPsyYgMqxmM3VylZZGC8hY82bqxUUlneFf+GaItVn5OG
MCwu5+65emCPBAoDXfVCfTdxeQ63KRUQ2uNoMiOKX3ECQQDGQXbRMDk9vX9kagbk
ISpMQcvBl4fa5lP7YE3Rr0cgNjhv999Od/uMJrf87awdpRvf5u54cTIYl/oIC2tM
UePBAkEA1oUQbuP4yIJaTVWqA3L8HHG/0iuwqE6hOrbuUQ+uV64hNZpZN+XuPMfm
CycU9n7xsIeXepmw2+ypAcvaBcAGAQJAVdP5cE6EOWpUQFB2c0S4XxMM9t52/hlA
uk7S4bgT/qn6fN6+WeYvjFkmxeTO4nacPq5nBtVabrM8l0b6SKwbAQJBANQkhhya
8DLnHbAVNw8Z2tNULbOew/6wPJVxpN/T8Ij8cdQgNPEwdg1vKLBwOiOxM9NA+QuX
Pn+THGUFSyM121s=
-----END PRIVATE KEY-----`;

describe('signaturePayload', () => {
  it('concatenates timestamp, api key, recv window and payload with no separators', () => {
    expect(signaturePayload(timestamp, apiKey, 5000, query)).toBe(`1672219779140${apiKey}5000${query}`);
  });
});

describe('createSigner', () => {
  it('signs a POST body with HMAC-SHA256 in lowercase hex', () => {
    const sign = createSigner({ apiKey, apiSecret });
    expect(sign(signaturePayload(timestamp, apiKey, 5000, body))).toBe(
      'bd8e6dc2b8c8b846b6220987888895313eea8b03b0fa4513af9039ca348c3b3e',
    );
  });

  it('signs a GET query string with HMAC-SHA256', () => {
    const sign = createSigner({ apiKey, apiSecret });
    expect(sign(signaturePayload(timestamp, apiKey, 5000, query))).toBe(
      '5857715442cad9055791aeac23865279ffc7a24f9fc5d4157b4b3680fc3a3b76',
    );
  });

  it('signs with RSASSA-PKCS1-v1_5 SHA-256 in base64 when given a PEM private key', () => {
    const sign = createSigner({ apiKey, privateKey: testOnlyPrivateKey });
    expect(sign(signaturePayload(timestamp, apiKey, 5000, body))).toBe(
      'u90M0FQxaKqPMJMYuFHfnsO5T2fCTEmivzCmmEoUEhEI5IDbCI5u2fxd2ceD9O610GIwszVNofkkhKR/0ycVOCtFVVZeAxN8HGlDNOyWR20bdv+K9z+YUMACOR19yE3kfSrySr5wQ1+jFOGi5Pw9JePE1kcnN/0E3x2T7qmrhm8=',
    );
  });

  it('chooses RSA when a PEM arrives in the apiSecret field, as Bybit clients do', () => {
    const sign = createSigner({ apiKey, apiSecret: testOnlyPrivateKey });
    expect(sign('x')).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(sign('x')).toHaveLength(172);
  });

  it('throws on a malformed PEM instead of silently signing with HMAC', () => {
    expect(() =>
      createSigner({ apiKey, privateKey: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }),
    ).toThrow();
  });
});
