package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDockerfile reads the Dockerfile and .dockerignore (no Docker engine
// runs the tests) for what operations.md promises: a static non-root build,
// a health check that needs no curl, the plan from a mounted directory rather
// than the built-in example, and a build context without .git or databases.
func TestDockerfile(t *testing.T) {
	df := readRepoFile(t, "Dockerfile")
	for _, want := range []string{
		`CGO_ENABLED=0 go build`,
		`-X main.version=${VERSION}`,
		`-X main.buildRevision=${REVISION}`,
		`USER 65532:65532`,
		`CMD ["/usr/local/bin/drbot", "healthcheck"]`,
		`DRBOT_PLAN=/etc/drbot/plan.yaml`,
		`COPY examples/plan.yaml /usr/share/drbot/example-plan.yaml`,
		`VOLUME /data`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if regexp.MustCompile(`COPY examples/plan.yaml /etc/drbot`).MatchString(df) {
		t.Error("Dockerfile puts the example plan where DRBOT_PLAN points: the image would start on it by mistake")
	}
	ignore := strings.Fields(readRepoFile(t, ".dockerignore"))
	for _, want := range []string{".git", "**/*.db", "**/*.db-wal", "**/*.db-shm"} {
		if !slices.Contains(ignore, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}

// TestServeRefusesMissingPlan: the image's DRBOT_PLAN with nothing mounted
// there stops serve with a message saying how to give it a plan.
func TestServeRefusesMissingPlan(t *testing.T) {
	t.Setenv("DRBOT_PLAN", "/nonexistent/etc/drbot/plan.yaml")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	t.Setenv("SLACK_SIGNING_SECRET", "secret")
	t.Setenv("DRBOT_DB", t.TempDir()+"/drbot.db")
	t.Setenv("DRBOT_ADDR", "127.0.0.1:0")
	var out, errOut strings.Builder
	code := Main(t.Context(), []string{"serve"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "DRBOT_PLAN") || !strings.Contains(errOut.String(), "/nonexistent/etc/drbot/plan.yaml") {
		t.Fatalf("serve with no plan mounted: exit %d, %q; want a failure naming the path and DRBOT_PLAN", code, errOut.String())
	}
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
