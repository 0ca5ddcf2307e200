# syntax=docker/dockerfile:1
# meshops container: built on Node 24, runs as non-root on distroless Node 24 with a read-only root filesystem.
#   docker build -t ghcr.io/<you>/meshops:0.1.0 .
#   docker build --build-arg ISTIOCTL_VERSION=1.24.2 --build-arg ISTIOCTL_SHA256=<sha256 of the linux-amd64 tarball> -t ... .

ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; Node itself comes from the image, not from the "node" dev dependency.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# The font resvg draws the canary charts' text with (distroless has no fonts).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*

FROM ${NODE_IMAGE} AS istioctl
ARG ISTIOCTL_VERSION=""
ARG ISTIOCTL_SHA256=""
ARG TARGETARCH=amd64
WORKDIR /out
# Optional: a pinned istioctl, verified by checksum, for `--istioctl` cross-checks. Empty version = none.
RUN set -eu; mkdir -p /out/bin; \
    if [ -n "$ISTIOCTL_VERSION" ]; then \
      [ -n "$ISTIOCTL_SHA256" ] || { echo "ISTIOCTL_SHA256 is required with ISTIOCTL_VERSION" >&2; exit 1; }; \
      apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*; \
      f="istioctl-${ISTIOCTL_VERSION}-linux-${TARGETARCH}.tar.gz"; \
      curl -fsSLo "$f" "https://github.com/istio/istio/releases/download/${ISTIOCTL_VERSION}/${f}"; \
      echo "${ISTIOCTL_SHA256}  ${f}" | sha256sum -c -; \
      tar -xzf "$f" -C /out/bin istioctl; \
    fi

FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production MESHOPS_ISTIOCTL=""
# Memory (bench/memory.ts, 2,000 pods): glibc keeps one malloc arena per thread and holds freed memory in them;
# two arenas took RSS after a burst of 50 `stale` from 383 to 338 MiB. Fixed trim and mmap thresholds (128 KiB:
# glibc otherwise raises both as large blocks are freed, and keeps what it would have returned) took idle / after
# a burst from 186 / 245 to 165 / 213 MiB. All three are also set in deploy/base/deployment.yaml.
ENV MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /usr/share/fonts/truetype/dejavu /usr/share/fonts/truetype/dejavu
COPY --from=istioctl /out/bin /usr/local/bin
COPY package.json manifest.yml ./
# .dockerignore keeps src/sandbox and src/demo (the sandbox API server and the demo mesh) out of the
# context, so they are not in the image; asked for the demo, the bot says so in one line and exits.
COPY src ./src
# nonroot image: uid 65532; the Deployment pins 10001 and mounts an emptyDir at /tmp.
USER 65532:65532
EXPOSE 8080
# Node 24 runs the TypeScript sources directly (type stripping): no build output to ship.
# --max-semi-space-size=2 (MiB): V8's young generation grows to 16 MiB per semi-space under a burst and keeps it;
# capped, RSS idle went 231 -> 198 MiB and after a burst 338 -> 265 MiB (bench/memory.ts), answers as fast.
CMD ["--disable-warning=ExperimentalWarning", "--max-semi-space-size=2", "src/main.ts"]
