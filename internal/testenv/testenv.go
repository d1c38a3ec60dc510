// Package testenv finds the real components some tests need: a PostgreSQL
// server, Chromium and Alertmanager. Each is named by an environment variable
// that .ci/run sets after installing and starting the component:
//
//	DRBOT_TEST_POSTGRES     postgres://drbot:…@127.0.0.1:55432/postgres (a role that may CREATE DATABASE)
//	DRBOT_TEST_CHROMIUM     path of a Chromium binary (Debian's chromium)
//	DRBOT_TEST_ALERTMANAGER path of an Alertmanager binary (Debian's prometheus-alertmanager)
//
// When the variable is unset the test is skipped on a developer's machine and
// fails in CI (CI=true), where a skipped test would hide a missing install step.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Postgres returns the URL of the test PostgreSQL server (DRBOT_TEST_POSTGRES).
func Postgres(t testing.TB) string {
	t.Helper()
	return require(t, "DRBOT_TEST_POSTGRES", "PostgreSQL", "export DRBOT_TEST_POSTGRES=$(.ci/start-postgres)")
}

// Chromium returns the path of the Chromium binary (DRBOT_TEST_CHROMIUM, else
// chromium on PATH).
func Chromium(t testing.TB) string {
	t.Helper()
	return binary(t, "DRBOT_TEST_CHROMIUM", "chromium", "apt-get install chromium")
}

// Alertmanager returns the path of the Alertmanager binary
// (DRBOT_TEST_ALERTMANAGER, else prometheus-alertmanager on PATH).
func Alertmanager(t testing.TB) string {
	t.Helper()
	return binary(t, "DRBOT_TEST_ALERTMANAGER", "prometheus-alertmanager", "apt-get install prometheus-alertmanager")
}

// InCI reports whether the tests run in CI, where a missing component fails
// the test instead of skipping it.
func InCI() bool { return os.Getenv("CI") == "true" }

func binary(t testing.TB, env, name, install string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missing(t, name, install+", or set "+env)
	return ""
}

func require(t testing.TB, env, what, how string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	missing(t, what, how)
	return ""
}

func missing(t testing.TB, what, how string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is needed by this test and CI=true: %s (.ci/run does this)", what, how)
	}
	t.Skipf("%s not available (%s); skipped outside CI", what, how)
}
