package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// BlobStore keeps immutable bodies (messages, documents) by the SHA-256 of
// their content. Storing the same bytes twice stores them once.
type BlobStore interface {
	// Put stores everything r yields and returns its key (lowercase hex
	// SHA-256) and size. When Put returns, the blob is durable.
	Put(ctx context.Context, r io.Reader) (key string, size int64, err error)
	// Open returns the blob; a missing key gives an error wrapping
	// fs.ErrNotExist.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// ErrBadKey is returned for a key that is not a SHA-256 in lowercase hex.
var ErrBadKey = errors.New("db: blob key is not a lowercase hex SHA-256")

// FSBlobs is the filesystem BlobStore: DIR/ab/cd/abcd…, written to a
// temporary file, fsynced, renamed into place, and the directory fsynced, so
// that a crash leaves either the whole blob or none.
type FSBlobs struct {
	Dir string
}

// NewFSBlobs returns a store rooted at dir, creating it.
func NewFSBlobs(dir string) (*FSBlobs, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("blobs: %w", err)
	}
	return &FSBlobs{Dir: dir}, nil
}

func validKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for _, c := range key {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (b *FSBlobs) path(key string) string {
	return filepath.Join(b.Dir, key[:2], key[2:4], key)
}

// Put implements BlobStore.
func (b *FSBlobs) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(b.Dir, "tmp"), "put-*")
	if err != nil {
		return "", 0, fmt.Errorf("blobs: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return "", 0, fmt.Errorf("blobs: write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("blobs: fsync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("blobs: close: %w", err)
	}
	key := hex.EncodeToString(h.Sum(nil))
	dst := b.path(key)
	if _, err := os.Stat(dst); err == nil {
		os.Remove(tmp.Name())
		committed = true
		return key, n, nil
	}
	dir := filepath.Dir(dst)
	// The rename is durable once its directory is; a directory made now
	// must itself be made durable in its parent (and so on up).
	toSync := []string{dir}
	if _, err := os.Stat(dir); err != nil {
		toSync = append(toSync, filepath.Dir(dir), b.Dir)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", 0, fmt.Errorf("blobs: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, fmt.Errorf("blobs: rename: %w", err)
	}
	committed = true
	for _, d := range toSync {
		if err := syncDir(d); err != nil {
			return "", 0, err
		}
	}
	return key, n, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blobs: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blobs: fsync %s: %w", dir, err)
	}
	return nil
}

// Open implements BlobStore.
func (b *FSBlobs) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if !validKey(key) {
		return nil, ErrBadKey
	}
	f, err := os.Open(b.path(key))
	if err != nil {
		return nil, fmt.Errorf("blobs: open %s: %w", key, err)
	}
	return f, nil
}

// Delete implements BlobStore.
func (b *FSBlobs) Delete(ctx context.Context, key string) error {
	if !validKey(key) {
		return ErrBadKey
	}
	if err := os.Remove(b.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blobs: delete %s: %w", key, err)
	}
	return nil
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
