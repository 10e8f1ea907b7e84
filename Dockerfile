# onceflow worker / API image. Build where Docker runs:  docker build -t onceflow .
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; install scripts stay off (the image never runs embedded Postgres).
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
USER node
# The API answers /health; a worker has no port, so its check is that the process is alive.
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.API_PORT||8787)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(process.env.ONCEFLOW_ROLE==='worker'?0:1))"
CMD ["node", "--import", "tsx", "src/worker.ts"]
