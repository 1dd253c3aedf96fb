// GET /openapi.json (the document every route module filled in) and GET /docs, an
// interactive Swagger UI page served from the swagger-ui-dist package's own files, so it
// works with no network.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HttpError } from '../http/errors.ts';
import type { OpenApiDocument } from '../http/openapi.ts';
import type { RouteModule } from '../routes.ts';

const SWAGGER_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>PJM LMP forecast API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;

// The page's script is a file of its own, so a strict Content-Security-Policy needs no inline script.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });`;

export function docsRoutes(document: OpenApiDocument): RouteModule {
  const cache = new Map<string, Buffer>();
  return {
    name: 'docs',
    register(router) {
      // Not documented in the spec itself: these serve the spec.
      router.get('/openapi.json', (ctx) => {
        ctx.type = 'application/json';
        ctx.body = document.json();
      });
      router.get('/docs', (ctx) => {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = PAGE;
      });
      router.get('/docs/init.js', (ctx) => {
        ctx.type = 'application/javascript; charset=utf-8';
        ctx.body = INIT;
      });
      router.get('/docs/assets/:file', async (ctx) => {
        const file = ctx.params['file'] ?? '';
        const type = ASSETS[file];
        if (!type) throw new HttpError(404, 'not_found', `No docs asset ${file}.`);
        let bytes = cache.get(file);
        if (!bytes) cache.set(file, (bytes = await readFile(join(SWAGGER_DIR, file))));
        ctx.type = type;
        ctx.set('Cache-Control', 'public, max-age=86400');
        ctx.body = bytes;
      });
    },
  };
}
