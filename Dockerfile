# One image for every role: coordinator, party node, scoring endpoint.
# Tandem runs its TypeScript sources directly (Node's type stripping), so
# there is no build stage; production dependencies only.
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    TANDEM_CONFIG=/srv/tandem/config/node.yaml
WORKDIR /app

COPY package.json package-lock.json ./
# --omit=optional skips @tensorflow/tfjs-node (it downloads libtensorflow at
# install time); Tandem falls back to @tensorflow/tfjs.
RUN npm ci --omit=dev --omit=optional && npm cache clean --force

COPY bin ./bin
COPY cli ./cli
COPY coordinator ./coordinator
COPY party ./party
COPY protocol ./protocol
COPY report ./report
COPY runtime ./runtime
COPY serving ./serving

# Configs, certificates, data, models and audit logs are mounted under /srv/tandem.
RUN mkdir -p /srv/tandem && chown node:node /srv/tandem
USER node

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD node /app/bin/tandem.mjs health --config "$TANDEM_CONFIG"

ENTRYPOINT ["node", "/app/bin/tandem.mjs"]
CMD ["--help"]
