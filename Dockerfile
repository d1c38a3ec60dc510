# syntax=docker/dockerfile:1
# Build: docker build --build-arg VERSION=v1.0.0 --build-arg REVISION=$(git rev-parse HEAD) -t drbot .
# Run:   docker run -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET -p 3000:3000 \
#          -v "$PWD/plans:/etc/drbot:ro" -v drbot-data:/data drbot
# docs/operations.md ("Docker") explains the mounts, ownership, backup and reload.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=
# modernc.org/sqlite is pure Go: CGO_ENABLED=0 gives a static binary. The
# build context has no .git (.dockerignore), so the revision comes in as a
# build argument for "drbot version".
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.buildRevision=${REVISION}" \
      -o /out/drbot ./cmd/drbot \
 && mkdir -p /out/data /out/plans

# distroless/static: CA certificates, /etc/passwd with nonroot (65532), nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/drbot /usr/local/bin/drbot
# The example plan is for trying the image only: DRBOT_PLAN points at
# /etc/drbot/plan.yaml, which exists only when you mount your plan directory
# there, so the image does not start on the example by mistake. To try it:
# -e DRBOT_PLAN=/usr/share/drbot/example-plan.yaml
COPY examples/plan.yaml /usr/share/drbot/example-plan.yaml
COPY --from=build --chown=65532:65532 /out/plans /etc/drbot
COPY --from=build --chown=65532:65532 /out/data /data
ENV DRBOT_PLAN=/etc/drbot/plan.yaml \
    DRBOT_DB=/data/drbot.db \
    DRBOT_ADDR=:3000
USER 65532:65532
VOLUME /data
EXPOSE 3000
# distroless has no shell or curl: drbot asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/drbot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/drbot"]
CMD ["serve"]
