# onceflow image: the compiled package (dist/) plus the order example (examples/order-ops/, compiled), for
# docker-compose.yml's worker, API and sandbox services. Plain Node at run time: no tsx, no TypeScript.
#   docker build -t onceflow .
#   docker run onceflow                             # the order example's worker (TEMPORAL_ADDRESS, DATABASE_URL)
#   docker run onceflow node dist/cli.js api --tasks examples/order-ops/tasks.js   # the HTTP API over the example's task kinds
#   docker run onceflow node dist/cli.js sandbox    # the sandbox services

# Build: every dependency, then tsc. Install scripts stay off (the image never runs embedded Postgres;
# esbuild and @swc/core use their platform packages).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.ts ./scripts/
COPY src ./src
COPY examples ./examples
RUN npm run build
# The example imports `onceflow/...`; with `paths` cleared these resolve through package.json `exports`
# to dist/ (a package importing itself by name), in tsc now and in Node at run time.
# tsc emits only JS: the example's own SQL migrations (examples/order-ops/db.ts reads them) go along.
RUN printf '%s' '{"extends":"./tsconfig.json","compilerOptions":{"noEmit":false,"rootDir":"examples","outDir":"build/examples","paths":{}},"include":["examples/order-ops/**/*.ts"],"exclude":["examples/**/*.test.ts"]}' > tsconfig.examples.json \
  && npx tsc -p tsconfig.examples.json \
  && cp -r examples/order-ops/migrations build/examples/order-ops/

# Production dependencies only.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/build/examples ./examples
COPY bin ./bin
USER node
# The API answers /health; a worker has no port, so its check is that the process is alive.
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.API_PORT||8787)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(process.env.ONCEFLOW_ROLE==='worker'?0:1))"
CMD ["node", "examples/order-ops/worker.js"]
