# The Weir image for Kubernetes clusters with a container runtime (kind, real clusters): the package
# root is the working directory, as on the local test cluster, so pods run `node bin/weir.js ...` and
# job modules are paths relative to it (examples/wordcount.ts). Build the TypeScript first:
#   npm install && npm run build && docker build -t weir:0.1.0 .
FROM node:20-bookworm-slim
WORKDIR /opt/weir
COPY package.json package-lock.json ./
# tsx stays (it loads TypeScript job modules at run time); dev tools do not
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY dist ./dist
COPY examples ./examples
# the operator's chart runs it as this user with a read-only root filesystem (/tmp is an emptyDir)
USER 65532:65532
ENTRYPOINT ["node", "bin/weir.js"]
