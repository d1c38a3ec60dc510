package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkWritable explains, in words a person can act on, why SQLite could not
// open a database for writing: SQLite itself says only "unable to open
// database file (14)". drbot needs to write the file and, in WAL mode, to
// create PATH-wal and PATH-shm beside it, so the directory must be writable
// too.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	user := fmt.Sprintf("user %d", os.Getuid())
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %s does not exist: create it (writable by %s), or point --db / DRBOT_DB elsewhere", dir, user)
	case err != nil:
		return fmt.Errorf("cannot reach %s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	if syscall.Access(dir, 2 /* W_OK */) != nil {
		return fmt.Errorf("cannot write in %s: drbot needs write access to the directory for %s, %s-wal and %s-shm "+
			"(it runs as %s; in Docker the user is 65532): chown or chmod the directory, or point --db / DRBOT_DB elsewhere",
			dir, filepath.Base(path), filepath.Base(path), filepath.Base(path), user)
	}
	if _, err := os.Stat(path); err == nil && syscall.Access(path, 6 /* R_OK|W_OK */) != nil {
		return fmt.Errorf("%s is read-only for %s: drbot writes to its database; chown it to the user drbot runs as (in Docker 65532) or chmod u+rw it", path, user)
	}
	return nil
}
