package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	// syncdb-head SRC DST N writes the first N bytes of SRC to DST: a
	// download cut short, made from a real database.
	scriptCommands["syncdb-head"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg {
			ts.Fatalf("unsupported: ! syncdb-head")
		}
		if len(args) != 3 {
			ts.Fatalf("usage: syncdb-head SRC DST N")
		}
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 0 {
			ts.Fatalf("syncdb-head: N %q is not a byte count", args[2])
		}
		data, err := os.ReadFile(ts.MkAbs(args[0]))
		ts.Check(err)
		if n > len(data) {
			ts.Fatalf("syncdb-head: %s has only %d bytes", args[0], len(data))
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), data[:n], 0o644))
	}

	// syncdb-empty DST writes an empty repository the way repo-add does:
	// the gzip of an empty tar archive (its end-of-archive marker only).
	scriptCommands["syncdb-empty"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: syncdb-empty DST")
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		ts.Check(tar.NewWriter(zw).Close())
		ts.Check(zw.Close())
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o644))
	}

	// syncdb-tar DST FILE... packs FILEs (relative to $WORK, such as
	// foo-1-1/desc from the txtar listing) into an uncompressed tar at DST:
	// a hand-written sync database.
	scriptCommands["syncdb-tar"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: syncdb-tar DST FILE...")
		}
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, name := range args[1:] {
			data, err := os.ReadFile(ts.MkAbs(name))
			ts.Check(err)
			ts.Check(tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}))
			_, err = tw.Write(data)
			ts.Check(err)
		}
		ts.Check(tw.Close())
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o644))
	}
}
