# Builds the manager image where a Docker engine is available:
# `make docker-build` runs `docker buildx build --platform $(PLATFORMS)`, and
# the builder stage cross-compiles on the build machine's own platform.
# Without an engine, `make docker-build` builds the same image (a static
# /manager run as 65532:65532, CA roots, no shell) from an empty base with
# hack/image instead, and pulls nothing.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY api/ api/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w" -o manager ./cmd/manager

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
