package certs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomic replaces path with data: a reader (or a crash) sees the
// old file or the new one, never a torn one. The data is synced before the
// rename and the directory after it, so the rename itself survives a power
// loss. The temporary file gets perm before any byte is written, so a key is
// never readable by others, even briefly.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeFile(path, data, perm, false)
}

// writeFileExclusive is writeFileAtomic that fails with an error wrapping
// fs.ErrExist when path already exists. It links the temporary file instead
// of renaming it, and link(2) never replaces its target: two writers racing
// cannot both succeed.
func writeFileExclusive(path string, data []byte, perm os.FileMode) error {
	return writeFile(path, data, perm, true)
}

func writeFile(path string, data []byte, perm os.FileMode, exclusive bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if exclusive {
		if err = os.Link(tmp, path); err != nil {
			return fmt.Errorf("certs: write %s: %w", path, err)
		}
		// The link is in place; the temporary name is just an extra entry.
		if err = os.Remove(tmp); err != nil {
			return fmt.Errorf("certs: write %s: %w", path, err)
		}
	} else if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	if err = syncDir(dir); err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	return nil
}

// syncDir makes the directory entries created or renamed in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// mkdirPrivate creates dir (and parents) mode 0700 and tightens it if it
// already existed with a looser mode: it holds private keys.
func mkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}
