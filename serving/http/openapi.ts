// The one OpenAPI 3.1 document of the server, assembled while routes register (openapi3-ts
// builder). Route modules add operations and component schemas through `OpenApiRegistry`;
// the schemas are the TypeBox schemas the validator compiles, so docs and checks cannot drift.
import { OpenApiBuilder, type OpenAPIObject, type OperationObject, type SchemaObject } from 'openapi3-ts/oas31';
import type { TSchema } from '@sinclair/typebox';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface OpenApiRegistry {
  /** Adds `schema` as `#/components/schemas/<name>` and returns the reference to use. */
  schema(name: string, schema: TSchema): { $ref: string };
  /** Adds one operation. `path` is in OpenAPI form (`/runs/{id}`). */
  operation(method: HttpMethod, path: string, op: OperationObject): void;
  /** Adds a tag (a section of the docs page). */
  tag(name: string, description: string): void;
}

export const BEARER_SCHEME = 'bearerAuth';

/** TypeBox schemas carry a symbol-keyed `[Kind]`; JSON.stringify drops it, which is what we want. */
export const toSchemaObject = (schema: TSchema): SchemaObject => JSON.parse(JSON.stringify(schema)) as SchemaObject;

export class OpenApiDocument implements OpenApiRegistry {
  private readonly builder: OpenApiBuilder;
  private readonly schemas = new Map<string, TSchema>();
  private cached: string | undefined;

  constructor(info: { title: string; version: string; description: string }) {
    this.builder = OpenApiBuilder.create({ openapi: '3.1.0', info, paths: {}, components: {} });
    this.builder.addSecurityScheme(BEARER_SCHEME, {
      type: 'http',
      scheme: 'bearer',
      description: 'Required when the server runs with SERVING_API_TOKEN set: POST /predict and every mutating route.',
    });
  }

  schema(name: string, schema: TSchema): { $ref: string } {
    const known = this.schemas.get(name);
    if (known && known !== schema) throw new Error(`OpenAPI component schema "${name}" is registered twice with different schemas; give one another name.`);
    if (!known) {
      this.schemas.set(name, schema);
      this.builder.addSchema(name, toSchemaObject(schema));
      this.cached = undefined;
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  operation(method: HttpMethod, path: string, op: OperationObject): void {
    const paths = this.builder.getSpec().paths ?? {};
    const item = paths[path] ?? {};
    if (item[method]) throw new Error(`OpenAPI operation ${method.toUpperCase()} ${path} is registered twice.`);
    this.builder.addPath(path, { ...item, [method]: op });
    this.cached = undefined;
  }

  tag(name: string, description: string): void {
    if ((this.builder.getSpec().tags ?? []).some((t) => t.name === name)) return;
    this.builder.addTag({ name, description });
    this.cached = undefined;
  }

  spec(): OpenAPIObject {
    return this.builder.getSpec();
  }

  /** The document as JSON text, built once per change (GET /openapi.json is cheap). */
  json(): string {
    this.cached ??= this.builder.getSpecAsJson();
    return this.cached;
  }
}
