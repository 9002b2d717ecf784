/**
 * Fuzzing tx_info parsing (the parser behind `tx verify`): it throws only TxError, and a rejection
 * of a mutated field names that field; verifyTx never throws at all.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseExactJson, printExactJson, type ExactJson } from "../../../worker/lighter/json.ts";
import { TxError, parseTxInfo, verifyTx } from "../../../worker/lighter/tx.ts";
import { loadVectors, type Json } from "../../support/vectors.ts";
import { RUNS, exactJsonArb, mutate, mutationsArb } from "./arbitraries.ts";

const v = loadVectors("signer-vectors.json");
const cases = (["create_order", "cancel_order", "cancel_all_orders", "modify_order"] as const).map((kind) => {
  const c = (v[kind] as Json[])[0];
  return {
    txType: c.outputs.tx_type as number,
    info: c.outputs.tx_info as string,
    pub: c.public_key_hex as string,
    chain: c.inputs.chain_id as number,
  };
});
const caseArb = fc.constantFrom(...cases);

/** parseTxInfo's outcome; anything but a TxError escapes and fails the property. */
function parse(txType: number, text: string): TxError | null {
  try {
    parseTxInfo(txType, text);
    return null;
  } catch (err) {
    if (!(err instanceof TxError)) throw err;
    expect(err.message.length).toBeGreaterThan(0);
    return err;
  }
}

function verifyNeverThrows(c: (typeof cases)[number], text: string): void {
  const r = verifyTx(c.txType, text, c.pub, c.chain);
  if (!r.ok) expect(r.message.length).toBeGreaterThan(0);
}

function fieldsOf(text: string): { [k: string]: ExactJson } {
  return parseExactJson(text) as { [k: string]: ExactJson };
}

function withField(text: string, field: string, value: ExactJson | undefined): string {
  const o = fieldsOf(text);
  const copy = Object.create(null) as { [k: string]: ExactJson };
  for (const k of Object.keys(o)) if (k !== field) copy[k] = o[k]!;
  if (value !== undefined) copy[field] = value;
  return printExactJson(copy);
}

describe("tx_info parsing (fuzz)", () => {
  it("the vectors parse and verify (the fuzz starts from valid inputs)", () => {
    for (const c of cases) expect(verifyTx(c.txType, c.info, c.pub, c.chain).ok).toBe(true);
  });

  it("a field replaced by any JSON value: accepted, or rejected naming that field", () => {
    fc.assert(
      fc.property(caseArb, fc.nat(), exactJsonArb, (c, pick, value) => {
        const keys = Object.keys(fieldsOf(c.info));
        const field = keys[pick % keys.length]!;
        const text = withField(c.info, field, value);
        const err = parse(c.txType, text);
        if (err) expect(err.field === field || err.message.includes(field), `${err.message} (${text})`).toBe(true);
        verifyNeverThrows(c, text);
      }),
      { numRuns: RUNS },
    );
  });

  it("a missing or an extra field is rejected naming it", () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !/^(__proto__|constructor|prototype)$/.test(k)),
        exactJsonArb,
        (c, pick, extra, value) => {
          const keys = Object.keys(fieldsOf(c.info)).filter((k) => k !== "Sig" && k !== "L2TxAttributes");
          const field = keys[pick % keys.length]!;
          const missing = parse(c.txType, withField(c.info, field, undefined));
          expect(missing?.field).toBe(field);
          if (!Object.keys(fieldsOf(c.info)).includes(extra) && extra !== "SignedHash") {
            const added = parse(c.txType, withField(c.info, extra, value));
            expect(added?.field).toBe(extra);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("a field hidden under __proto__ (or constructor/prototype) is rejected naming the key", () => {
    fc.assert(
      fc.property(caseArb, fc.nat(), fc.constantFrom("__proto__", "constructor", "prototype"), (c, pick, key) => {
        const o = fieldsOf(c.info);
        const keys = Object.keys(o);
        const field = keys[pick % keys.length]!;
        const hidden = withField(c.info, field, undefined).replace(
          /^\{/,
          `{"${key}":{"${field}":${printExactJson(o[field]!)}},`,
        );
        const err = parse(c.txType, hidden);
        expect(err).not.toBe(null);
        expect(err!.message).toContain(key);
        verifyNeverThrows(c, hidden);
      }),
      { numRuns: RUNS },
    );
  });

  it("mutated text and arbitrary JSON: only TxError, and verifyTx never throws", () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.oneof(
          mutationsArb.map((ms) => (info: string) => mutate(info, ms)),
          fc.json({ maxDepth: 3 }).map((j) => () => j),
          fc.string({ unit: "binary", maxLength: 30 }).map((s) => () => s),
        ),
        (c, make) => {
          const text = make(c.info);
          parse(c.txType, text);
          verifyNeverThrows(c, text);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
