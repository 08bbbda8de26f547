# Firebreak: one image for the worker, the alert intake and the Slack app; the command picks the process.
#
#   docker build -t firebreak:0.1.0 .
#   docker run --read-only --tmpfs /tmp firebreak:0.1.0 dist/workers/intake/main.js
#
# Runs as the numeric user 10001 and writes only to /tmp (mount a tmpfs) and to the data folders under
# /var/lib/firebreak (evidence store, reports, intake dead letters; mount volumes there), so the root
# filesystem can be read-only.

# Compiles the TypeScript sources to dist/ with the development dependencies.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY tools/node.sh tools/node.sh
# The development runner (workers/dev.ts) imports the lab helpers, so the compiler needs them too.
COPY tools/lab tools/lab
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY workers workers
COPY cli cli
RUN npm run build

# Installs the production dependencies only, so the runtime image carries no compiler or test tools.
FROM node:24.22.3-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24.22.3-bookworm-slim AS runtime
# Container defaults: listen on every interface, and keep data out of the read-only application folder.
ENV NODE_ENV=production \
    HOME=/tmp \
    FIREBREAK_INTAKE_HOST=0.0.0.0 \
    FIREBREAK_EVIDENCE_DIR=/var/lib/firebreak/evidence \
    FIREBREAK_REPORT_DIR=/var/lib/firebreak/reports \
    FIREBREAK_INTAKE_DEAD_LETTER_DIR=/var/lib/firebreak/dead-letters \
    FIREBREAK_INTAKE_ARCHIVE_DIR=/var/lib/firebreak/alert-bodies \
    FIREBREAK_PLAYBOOK_DIR=/app/playbooks
WORKDIR /app
# Files stay owned by root, so the process cannot change its own code even without a read-only root.
COPY package.json ./
COPY --from=production-dependencies /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY playbooks playbooks
RUN mkdir -p /var/lib/firebreak/evidence /var/lib/firebreak/reports /var/lib/firebreak/dead-letters \
    /var/lib/firebreak/alert-bodies \
  && chown -R 10001:10001 /var/lib/firebreak
VOLUME ["/var/lib/firebreak/evidence", "/var/lib/firebreak/reports", "/var/lib/firebreak/dead-letters", \
  "/var/lib/firebreak/alert-bodies"]
USER 10001:10001
# 8787: alert intake; 3000: Slack app in HTTP mode. The worker listens on no port.
EXPOSE 8787 3000
ENTRYPOINT ["node"]
CMD ["dist/workers/worker.js"]
