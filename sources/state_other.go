//go:build !linux

package sources

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// stateDir is the portable form of the Linux openat reader.
type stateDir struct{ path string }

func openStateDir(path string) (*stateDir, error) { return &stateDir{path: path}, nil }

func (d *stateDir) close() {}

func (d *stateDir) read(name string, _ []byte) ([]byte, error) {
	path := filepath.Join(d.path, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxStateFile {
		return nil, fmt.Errorf("%s: larger than %d bytes; not a state file", path, maxStateFile)
	}
	return b, nil
}
