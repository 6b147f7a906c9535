package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/alecthomas/kong"

	"github.com/portmake/portmake/alpm"
)

// VercmpCmd is pacman's vercmp: it prints -1, 0 or 1.
type VercmpCmd struct {
	Batch    bool     `help:"Read A<TAB>B lines from stdin and print one result per line."`
	Versions []string `arg:"" optional:"" name:"version" help:"The two versions A and B (either may be empty)."`
}

// Run compares like pacman's vercmp, which with no arguments prints its
// usage and exits 2, and with one is an error (exit 1).
func (c *VercmpCmd) Run(env *Env, k *kong.Context) error {
	if c.Batch {
		if len(c.Versions) > 0 {
			return fmt.Errorf("vercmp: --batch reads stdin and takes no arguments")
		}
		return vercmpBatch(env)
	}
	switch len(c.Versions) {
	case 0:
		k.PrintUsage(false)
		return &exitError{Code: 2}
	case 2:
		fmt.Fprintln(env.Stdout, alpm.Compare(c.Versions[0], c.Versions[1]))
		return nil
	default:
		return fmt.Errorf("vercmp: want two versions, got %d", len(c.Versions))
	}
}

// vercmpBatch streams A<TAB>B lines. Fields may be empty; a line without a
// tab is an error that names its line number.
func vercmpBatch(env *Env) error {
	sc := bufio.NewScanner(env.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	w := bufio.NewWriterSize(env.Stdout, 64<<10)
	defer w.Flush()
	var buf []byte
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		line = bytes.TrimSuffix(line, []byte{'\r'})
		a, b, ok := bytes.Cut(line, []byte{'\t'})
		if !ok {
			w.Flush()
			return fmt.Errorf("vercmp: stdin line %d: want A<TAB>B, got %q", n, line)
		}
		buf = strconv.AppendInt(buf[:0], int64(alpm.Compare(bytesView(a), bytesView(b))), 10)
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("vercmp: read stdin: %w", err)
	}
	return nil
}

// bytesView lets Compare read a scanner line without copying it. Compare
// keeps no reference to its arguments, and the line is not modified until
// the next Scan, so the view never outlives its bytes.
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
