# The Temporal server and its SQL schema tool, built from the server's Go module as `npm run cluster` builds
# them (scripts/cluster/build.ts): the same version, the same toolchain, the module's own config template.
FROM golang:1.24-bookworm AS build
ARG TEMPORAL_SERVER_VERSION=1.32.2
ARG GO_TOOLCHAIN=go1.27.3
ENV GOTOOLCHAIN=${GO_TOOLCHAIN} GOBIN=/out
RUN go install go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION} go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION} \
 && cp "$(go env GOMODCACHE)/go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}/config/docker.yaml" /out/docker.yaml

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/server /usr/local/bin/temporal-server
COPY --from=build /out/sql /usr/local/bin/temporal-sql-tool
COPY --from=build /out/docker.yaml /etc/temporal/docker.yaml
COPY docker/temporal-dynamicconfig.yaml /etc/temporal/dynamicconfig.yaml
USER nobody
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["temporal-server", "--config-file", "/etc/temporal/docker.yaml", "--allow-no-auth", "start"]
