# Multi-stage build: compile with the Rust toolchain, run on a slim image
# as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
# The web app is embedded into the binary at build time.
COPY frontend ./frontend
# The workspace's other member (the load generator) must be present for
# cargo to read the workspace, though only the server is built.
COPY load ./load
RUN cargo build --release --locked -p realtalk

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /data realtalk \
 && mkdir -p /data && chown realtalk /data
COPY --from=build /src/target/release/realtalk /usr/local/bin/realtalk
USER realtalk
ENV HOST=0.0.0.0 PORT=8080 DATA_DIR=/data LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["/usr/local/bin/realtalk"]
CMD ["serve"]
