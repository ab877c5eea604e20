# syntax=docker/dockerfile:1.7
#
# One image, two shapes:
#   standalone:  docker run -v agora-data:/data -p 8080:8080 agora
#                (no DATABASE_URL → agora starts and supervises its own PostgreSQL under /data)
#   external:    docker run -e DATABASE_URL=postgres://… -e REDIS_URL=redis://… -p 8080:8080 agora
#                (see docker-compose.yml)
#
# Needs BuildKit (default in current Docker): the cache mounts keep cargo's registry and the
# target directory between builds, so dependencies compile once, not on every source change.

# ---------------------------------------------------------------------------------------------
# Web apps (storefront and admin): built first, embedded into the release binary
# ---------------------------------------------------------------------------------------------
FROM node:22-bookworm AS web
WORKDIR /src/frontend
# Packages first, so a change to the apps' sources reuses this layer. `npm install` with the
# committed lockfile, as scripts/frontend.sh does (`npm ci` refuses it: other platforms'
# optional binaries are missing from it).
COPY frontend/package.json frontend/package-lock.json ./
RUN --mount=type=cache,id=agora-npm,target=/root/.npm \
    npm install --no-audit --no-fund --loglevel=error
# The API client is generated from openapi/openapi.json and committed, so the sources suffice.
COPY frontend/ ./
RUN npm run build

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src

# Dependency step: download every crate in Cargo.lock into the registry cache mount, which
# persists between builds (the build context is bind-mounted read-only, nothing is copied).
RUN --mount=type=bind,target=/src \
    --mount=type=cache,id=agora-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=agora-cargo-git,target=/usr/local/cargo/git \
    cargo fetch --locked

# Build step: the whole tree (migrations/, openapi/, … are embedded at compile time).
# target/ is a cache mount, so compiled dependencies are reused; copy the binary out of it.
COPY . .
# build.rs watches frontend/dist: the release binary embeds the apps built above.
COPY --from=web /src/frontend/dist frontend/dist
RUN --mount=type=cache,id=agora-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=agora-cargo-git,target=/usr/local/cargo/git \
    --mount=type=cache,id=agora-target,target=/src/target \
    cargo build --release --locked --bin agora \
 && install -D -m 0755 target/release/agora /out/agora

# ---------------------------------------------------------------------------------------------
# Runtime
# ---------------------------------------------------------------------------------------------
FROM debian:bookworm-slim

# PostgreSQL 15 server binaries for the embedded default (the package also creates the
# `postgres` user that runs them). No system cluster: agora creates its own under /data.
# curl: HEALTHCHECK; tini: PID 1 that forwards signals and reaps children.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-common; \
    sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' \
        /etc/postgresql-common/createcluster.conf; \
    apt-get install -y --no-install-recommends postgresql-15 ca-certificates tini curl; \
    rm -rf /var/lib/apt/lists/*; \
    id postgres; \
    test -x /usr/lib/postgresql/15/bin/initdb; \
    mkdir -p /data; \
    chmod 0755 /data

COPY --from=builder /out/agora /usr/local/bin/agora

# The container runs agora as root (the default). Without DATABASE_URL, agora creates its
# PostgreSQL cluster in a sub-directory of AGORA_DATA_DIR, chowns that directory to `postgres`
# and runs the server as that user (PostgreSQL refuses to run as root). /data itself stays
# root-owned and world-traversable (0755), which is all the `postgres` user needs.
ENV LANG=C.UTF-8 \
    AGORA_DATA_DIR=/data \
    AGORA_BIND=0.0.0.0:8080

VOLUME /data
EXPOSE 8080

# First start initialises the embedded cluster: allow time before failures count.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${AGORA_BIND##*:}/healthz" || exit 1

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["agora", "serve"]
