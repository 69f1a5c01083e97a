# syntax=docker/dockerfile:1
#
# One image for every tiergraph process (gateway and the six subgraphs). There is no build step:
# tsx runs the TypeScript directly, so the image carries the full workspace install.
#
#   docker build -t tiergraph:local .
#   docker run --rm tiergraph:local                                              # the gateway (default)
#   docker run --rm tiergraph:local node --import tsx subgraphs/tenancy/src/main.ts  # one subgraph
#
# docker-compose.yml wires the whole graph together (and sets a HEALTHCHECK per service).

# ---------------------------------------------------------------------------------------------
# base: node + pnpm, shared by both stages so the pnpm layer is built once.
FROM node:20-bookworm-slim AS base
ENV npm_config_update_notifier=false
RUN npm i -g pnpm@10 --no-fund --no-audit \
 && pnpm --version

# ---------------------------------------------------------------------------------------------
# deps: the workspace install. Only manifests and the lockfile are copied, so this layer is
# reused until a dependency changes. NODE_ENV is NOT production here: tsx is a devDependency
# of the root package and the processes need it at run time.
FROM base AS deps
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY gateway/package.json gateway/
COPY packages/runtime/package.json packages/runtime/
COPY packages/testkit/package.json packages/testkit/
COPY subgraphs/billing/package.json subgraphs/billing/
COPY subgraphs/tenancy/package.json subgraphs/tenancy/
COPY subgraphs/catalog/package.json subgraphs/catalog/
COPY subgraphs/orders/package.json subgraphs/orders/
COPY subgraphs/media/package.json subgraphs/media/
COPY subgraphs/monitoring/package.json subgraphs/monitoring/
# The store lives in a build cache mount, so only /app/node_modules (and the per-package
# node_modules folders of symlinks) end up in the layer.
RUN --mount=type=cache,id=tiergraph-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store

# ---------------------------------------------------------------------------------------------
# runtime: the installed tree from deps plus the sources, run as the unprivileged `node` user.
FROM base AS runtime
ENV NODE_ENV=production
# V8's young generation at 32 MiB, as `pnpm start` runs each service (SERVICE_SEMI_SPACE_MB in the README)
ENV NODE_OPTIONS=--max-semi-space-size=32
WORKDIR /app
# The whole /app of deps: manifests, root node_modules (.pnpm virtual store) and every
# workspace package's node_modules (relative symlinks into the root one, preserved by COPY).
COPY --from=deps /app /app
# Sources: gateway, packages, subgraphs, schema, scripts, tsconfig.json, ... (.dockerignore keeps
# node_modules, .data, .git, logs and other local output out, so nothing above is overwritten).
COPY . .
# MEDIA_ROOT of the media subgraph. Created here and owned by `node` so that a named volume
# mounted on it starts with that ownership (Docker copies it into an empty volume).
RUN mkdir -p /var/lib/tiergraph/media \
 && chown -R node:node /var/lib/tiergraph
USER node
EXPOSE 4000-4006
# Default process: the gateway. Compose overrides this per service with
# `node --import tsx subgraphs/<name>/src/main.ts`.
CMD ["node", "--import", "tsx", "gateway/src/main.ts"]
