# Lockstep: one image for every role (api, worker, all). Build: docker build -t lockstep .
# Not built in this project's CI (its machines have no Docker engine); see deploy/README.md.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds a native addon when no prebuilt binary matches.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.client.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production LOCKSTEP_HOST=0.0.0.0 LOCKSTEP_PORT=3000
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY package.json ./
RUN ln -s /app/bin/lockstep.js /usr/local/bin/lockstep
USER node
EXPOSE 3000
CMD ["lockstep", "start"]
