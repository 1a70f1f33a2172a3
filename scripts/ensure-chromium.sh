#!/usr/bin/env bash
# Install Debian's chromium + chromium-driver for the browser tier when missing (needs root and apt).
# Where they cannot be installed the browser tests skip with a clear message.
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 \
   && [ -n "$(fc-list 2>/dev/null | grep -i microhei)" ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: chromium missing and cannot install it here (need root + apt); browser tests will be skipped"
  exit 0
fi
echo "ensure-chromium: installing chromium and chromium-driver (Debian packages)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq chromium chromium-driver poppler-utils fonts-wqy-microhei >/dev/null 2>&1 \
  && echo "ensure-chromium: installed $(chromium --version 2>/dev/null)" \
  || echo "ensure-chromium: install failed; browser tests will be skipped"
