#!/usr/bin/env bash
# The guide's "Diagnostic rapide", done by hand, one step after another: the
# baseline that `helpdesk-doctor diagnose` is measured against.
cd "$(dirname "$0")/../stack"
docker-compose -p helpdesk-microservices -f docker-compose.services.yml ps >/dev/null 2>&1
for port in 3001 3002 3003; do
  curl -s -o /dev/null -w '%{http_code}\n' "http://localhost:$port/api/v1/health" >/dev/null
done
for port in 3001 3002 3003 5401 5402 5403 6301 6302 6303; do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && echo "port $port open" >/dev/null
done
df -h / >/dev/null
