# The Okta import hook: Debian, Deno from npm, a non-root user, the database on a volume.
#   docker build -t okta-import-hook .
#   docker run -d -p 8443:8443 -v okta-hook-data:/opt/okta-import-hook/data \
#     -e HOOK_AUTH_SECRET=... -e TLS_CERT_FILE=... -e TLS_KEY_FILE=... okta-import-hook
# No container engine runs on our machines: tests/container_test.ts runs these steps in a Debian
# root file system instead (docs/deploying.md says what that covers and what it does not).
FROM debian:bookworm-slim
WORKDIR /opt/okta-import-hook
COPY deno.json deno.lock main.ts ./
COPY lib ./lib
COPY deploy/container ./deploy/container
RUN bash deploy/container/build.sh
ENV DENO_DIR=/opt/okta-import-hook/deno-dir DENO_NO_UPDATE_CHECK=1 DENO_TLS_CA_STORE=system BIND_ADDRESS=0.0.0.0 PORT=8443
USER okta-hook
VOLUME /opt/okta-import-hook/data
EXPOSE 8443
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/bin/sh", "deploy/container/healthcheck.sh"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/okta-import-hook/tools/deno", "run", "--allow-env", "--allow-run", "--allow-read=.", "lib/launch.ts", "serve"]
