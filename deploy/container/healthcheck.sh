#!/bin/sh
# The image's HEALTHCHECK: /healthz on loopback answers 200. -k because the certificate names the
# public host (or is the generated one), not 127.0.0.1: this checks that the service answers, not
# who it is.
scheme=https
case "$(printf '%s' "${TLS:-on}" | tr '[:upper:]' '[:lower:]')" in off) scheme=http ;; esac
exec curl -fsk --max-time 4 -o /dev/null "$scheme://127.0.0.1:${PORT:-8443}/healthz"
