# The project's worker (and API) image: Node.js for the Temporal worker, Python for the jobs.
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Python jobs' dependencies first: they change least and take longest.
COPY jobs/requirements.txt jobs/requirements.txt
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir -r jobs/requirements.txt

COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund

COPY bin bin
COPY src src
# The namespace one-shot of docker-compose.yml (scripts/cluster-namespace.ts).
COPY scripts/cluster-namespace.ts scripts/cluster-namespace.ts
COPY scripts/cluster scripts/cluster
COPY jobs jobs
COPY config config
COPY tsconfig.json ./

RUN mkdir -p data models reports var && chown -R node:node data models reports var
USER node

ENV NODE_ENV=production
# tini forwards SIGTERM so the worker drains running jobs (worker.shutdownGraceTime) before exiting.
ENTRYPOINT ["/usr/bin/tini", "--"]
# bin/hea.js itself, not `node bin/hea.js`: its #! line carries the node flags of a long-running process.
CMD ["bin/hea.js", "worker", "--role", "all"]
