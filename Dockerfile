# The one Cairn image: `cairn server` (roots and nodes) and `cairn operator` (the Kubernetes
# operator). Node 24 runs the TypeScript sources as they are (type stripping), so there is no
# compile step: the build stage only installs production dependencies (lmdb's native prebuilds
# included), and the runtime stage copies them with the sources and runs as a non-root user. It
# strips the sources' types once, at build (node-runtime/bin/stripped-sources.js), so that no
# process keeps Node's TypeScript compiler in memory (about 20 MiB of RSS each).

# ---- dependencies ---------------------------------------------------------------------------
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency (the toolchain for development) is not needed: the base image is Node 24.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- the web console's static assets (esbuild is a devDependency) ---------------------------
FROM node:24-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY console ./console
COPY node-runtime/src ./node-runtime/src
RUN node console/build.ts

# ---- runtime --------------------------------------------------------------------------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY node-runtime/bin ./node-runtime/bin
COPY node-runtime/src ./node-runtime/src
COPY operator/src ./operator/src
COPY crds ./crds
COPY --from=console /app/console/dist ./console/dist
RUN node node-runtime/bin/stripped-sources.js \
 && chmod 0755 node-runtime/bin/cairn.js \
 && ln -s /app/node-runtime/bin/cairn.js /usr/local/bin/cairn \
 && mkdir -p /data && chown 1000:1000 /data
# uid/gid 1000 is the image's unprivileged `node` user; the pod specs set the same ids (runAsNonRoot).
USER 1000:1000
VOLUME ["/data"]
EXPOSE 9000 9001 9100 8080
ENTRYPOINT ["cairn"]
CMD ["--help"]
