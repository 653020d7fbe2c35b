#!/usr/bin/env bash
# Move the pinned container images across the air gap.
#   on a connected machine:  ./images.sh save   → images/*.tar
#   inside the firewall:     ./images.sh load
set -euo pipefail
cd "$(dirname "$0")"
images=$(grep -hoE 'image: *[a-z0-9./_-]+:[A-Za-z0-9._-]+' docker-compose.yml | awk '{print $2}' | grep -v '^kura-app:' | sort -u)
case "${1:-}" in
  save) mkdir -p images; for i in $images; do docker pull "$i"; docker save "$i" -o "images/$(echo "$i" | tr '/:' '__').tar"; done ;;
  load) for f in images/*.tar; do docker load -i "$f"; done; docker-compose build app ;;
  *) echo "usage: $0 save|load"; echo "images: $images"; exit 2 ;;
esac
