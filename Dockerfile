# processor container image.
#
#   docker build -t processor .
#   docker run --rm -p 10187:10187 --stop-timeout 60 \
#       -e REDIS_URL=redis://redis:6379 \
#       -e POSTGRES_URL=postgresql://processor:secret@db/tracking \
#       processor
#
# Configuration comes from the environment (REDIS_URL, POSTGRES_URL and
# PROCESSOR_<SECTION>_<KEY>, see processor(8)); /etc/processor/processor.conf
# holds the shipped defaults and can be replaced with a bind mount.  The
# master stops cleanly on SIGTERM; give it the unit's 60 s (--stop-timeout,
# or stop_grace_period in compose) to drain.

# --- build stage: compile and install into /out ---------------------------
FROM debian:12 AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential autoconf automake libtool pkg-config \
        libev-dev libhiredis-dev libpq-dev libjansson-dev \
        libmicrohttpd-dev libinih-dev libexpat1-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
# Fault-injection hooks are for the test suite only, never shipped.
RUN ./autogen.sh \
 && ./configure --prefix=/usr --sysconfdir=/etc --disable-fault-injection \
 && make -j"$(nproc)" \
 && make install-strip DESTDIR=/out \
 && rm -rf /out/usr/share/man

# --- runtime stage: the shared libraries and the installed tree ------------
FROM debian:12-slim

# Runtime counterparts of the -dev packages above (a superset of what the
# binaries link: compare the .deb's Depends); curl for HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libev4 libhiredis0.14 libpq5 libjansson4 libmicrohttpd12 \
        libinih1 libexpat1 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

# The same unprivileged system user as the Debian package.
RUN groupadd --system processor \
 && useradd --system --gid processor --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin processor

COPY --from=build /out/ /
# /run/processor holds the control socket (processorctl inside the container).
RUN install -d -o processor -g processor -m 0750 /run/processor

USER processor:processor
# Listen on all interfaces inside the container so the port can be published.
ENV PROCESSOR_HTTP_LISTEN=0.0.0.0:10187
EXPOSE 10187

HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:10187/healthz || exit 1

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/sbin/processor"]
CMD ["-c", "/etc/processor/processor.conf"]
