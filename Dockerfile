# dockgate: release build on Debian bookworm, run on bookworm-slim as a non-root user.
#   docker build -t dockgate .
#   docker run --rm -e DATABASE_URL=postgres://... -p 8080:8080 dockgate
# The image has no PostgreSQL server, so DATABASE_URL is required.

FROM rust:1-bookworm AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build

# Dependencies first, in a layer that changes only with Cargo.toml or Cargo.lock: build them
# against placeholder targets. tests/api/main.rs is the [[test]] path Cargo.toml names.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src tests/api \
    && echo 'fn main() {}' > src/main.rs \
    && : > src/lib.rs \
    && echo 'fn main() {}' > tests/api/main.rs \
    && cargo build --release --locked --bin dockgate \
    && rm -rf src

# The real sources. The crate embeds migrations/ (src/db/mod.rs), data/common-passwords.txt
# (src/auth/passwords.rs) and templates/mail/ (src/mail/templates.rs) at compile time.
COPY src ./src
COPY migrations ./migrations
COPY data ./data
COPY templates ./templates
COPY openapi ./openapi
# COPY keeps the files' modification times, which can be older than the placeholder build;
# touch the crate roots so cargo rebuilds dockgate instead of keeping the placeholder binary.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin dockgate \
    && install -D -m 0755 target/release/dockgate /out/dockgate

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 dockgate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin dockgate
COPY --from=builder /out/dockgate /usr/local/bin/dockgate
USER 10001:10001
ENV BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=6s --start-period=20s --retries=3 CMD ["dockgate", "healthcheck"]
ENTRYPOINT ["dockgate"]
CMD ["serve"]
