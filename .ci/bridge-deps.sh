#!/usr/bin/env bash
# System tools the tests drive as real clients: swaks and curl speak SMTP/POP3, python3
# brings poplib/smtplib, openssl makes the bridge's throwaway TLS certificate, and chromium
# (driven by playwright-core) renders the web pages in test/web.
# Installs only what is missing, so a warm CI image pays nothing.
set -euo pipefail

missing=()
command -v swaks >/dev/null 2>&1 || missing+=(swaks)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-liberation)
# swaks needs these Perl modules for --tls (STARTTLS); without them it silently cannot test TLS.
perl -MNet::SSLeay -e1 >/dev/null 2>&1 || missing+=(libnet-ssleay-perl)
perl -MIO::Socket::SSL -e1 >/dev/null 2>&1 || missing+=(libio-socket-ssl-perl)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  SUDO='sudo'
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
