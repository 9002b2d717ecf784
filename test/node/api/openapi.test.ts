/**
 * The generated OpenAPI document (the same builder /openapi.json serves) passes a real OpenAPI
 * validator, is 3.1, and lists every route of the app with its method; protected routes say so.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import { describe, expect, it } from "vitest";
import { app, buildOpenApiDocument } from "../../../worker/api/app.ts";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; parameters?: { name: string }[] }>>;
};

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const doc = buildOpenApiDocument() as unknown as Doc;
    expect(doc.openapi).toBe("3.1.0");
    await SwaggerParser.validate(structuredClone(doc) as never);
  });

  it("declares every route of the app, and only those", () => {
    const doc = buildOpenApiDocument() as unknown as Doc;
    const routes = new Set(
      app.routes
        .filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    expect(routes.size).toBe(20);
    expect([...documented].sort()).toEqual([...routes].sort());
    for (const r of [
      "GET /metrics",
      "POST /alerts/test",
      "GET /openapi.json",
      "GET /checks",
      "GET /logs",
      "GET /incidents",
      "POST /pause",
      "GET /orders/{client_order_index}",
      "GET /",
      "POST /signin",
      "POST /signout",
      "GET /public",
      "GET /badge/{file}",
      "GET /logs/stream",
    ])
      expect(documented, r).toContain(r);
  });

  it("public routes opt out of the bearer scheme; query parameters are documented", () => {
    const doc = buildOpenApiDocument() as unknown as Doc;
    expect(doc.paths["/healthz"]!.get!.security).toEqual([]);
    expect(doc.paths["/openapi.json"]!.get!.security).toEqual([]);
    expect(doc.paths["/checks"]!.get!.security).toBeUndefined();
    const names = doc.paths["/checks"]!.get!.parameters!.map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "monitor",
        "limit",
        "cursor",
        "verdict",
        "stage",
        "diagnosis",
        "since",
        "until",
        "detail",
      ]),
    );
    const logNames = doc.paths["/logs"]!.get!.parameters!.map((p) => p.name);
    expect(logNames).toEqual(expect.arrayContaining(["level", "event", "check", "since", "until", "q", "cursor"]));
  });
});
