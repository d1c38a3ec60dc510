# syntax=docker/dockerfile:1
# Build: docker build -t drbot .
# Run:   docker run -e SLACK_BOT_TOKEN -e SLACK_SIGNING_SECRET -p 3000:3000 -v drbot-data:/data drbot
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# modernc.org/sqlite is pure Go: CGO_ENABLED=0 gives a static binary.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/drbot ./cmd/drbot \
 && mkdir -p /out/data

# distroless/static: CA certificates, /etc/passwd with nonroot (65532), nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/drbot /usr/local/bin/drbot
COPY examples/plan.yaml /etc/drbot/plan.yaml
COPY --from=build --chown=65532:65532 /out/data /data
ENV DRBOT_PLAN=/etc/drbot/plan.yaml \
    DRBOT_DB=/data/drbot.db \
    DRBOT_ADDR=:3000
USER 65532:65532
VOLUME /data
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/drbot"]
CMD ["serve"]
