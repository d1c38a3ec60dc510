package storage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenSaysWhyItCannotWrite: a database drbot cannot write is refused in
// words that say what to fix, not SQLite's "unable to open database file
// (14)". Root writes anywhere, so as root (CI) the test runs itself again as
// the unprivileged user nobody.
func TestOpenSaysWhyItCannotWrite(t *testing.T) {
	base := os.Getenv("DRBOT_TEST_ACCESS_DIR")
	if base == "" {
		var err error
		base, err = os.MkdirTemp("", "drbot-access-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(filepath.Join(base, "ro"), 0o755); os.RemoveAll(base) })
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(base, "ro"), 0o555); err != nil {
			t.Fatal(err)
		}
		// A directory anyone may write, holding a file nobody may write.
		if err := os.Mkdir(filepath.Join(base, "rw"), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(base, "rw"), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, "rw", "ro.db"), nil, 0o444); err != nil {
			t.Fatal(err)
		}
		if os.Getuid() == 0 {
			runAsNobody(t, base)
			return
		}
	}
	ro := filepath.Join(base, "ro")
	_, err := Open(context.Background(), Config{Path: filepath.Join(ro, "drbot.db")})
	if err == nil || !strings.Contains(err.Error(), "cannot write in "+ro) || !strings.Contains(err.Error(), "drbot.db-wal") {
		t.Errorf("Open in a read-only directory: %v; want 'cannot write in DIR … drbot.db-wal'", err)
	}
	_, err = Open(context.Background(), Config{Path: filepath.Join(base, "rw", "ro.db")})
	if err == nil || !strings.Contains(err.Error(), "ro.db is read-only") {
		t.Errorf("Open of a read-only file: %v; want '… is read-only …'", err)
	}
}

// runAsNobody runs this test again in a copy of the test binary as user
// nobody (65534), which cannot write where root can.
func runAsNobody(t *testing.T, base string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "storage.test")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestOpenSaysWhyItCannotWrite$", "-test.v")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), "DRBOT_TEST_ACCESS_DIR="+base, "HOME="+base)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestOpenSaysWhyItCannotWrite") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

// TestCheckWritable covers the messages that do not depend on permissions,
// so they are checked as root too.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope", "drbot.db")
	if err := checkWritable(missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("checkWritable(%s) = %v, want 'does not exist'", missing, err)
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	if err := checkWritable(filepath.Join(file, "drbot.db")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as the directory: %v, want 'not a directory'", err)
	}
	if err := checkWritable(filepath.Join(dir, "drbot.db")); err != nil {
		t.Errorf("a writable directory: %v", err)
	}
	_, err := Open(context.Background(), Config{Path: missing})
	if err == nil || !strings.Contains(err.Error(), "does not exist: create it") {
		t.Errorf("Open with a missing directory: %v", err)
	}
}
