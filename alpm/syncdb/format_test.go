package syncdb_test

import (
	"testing"

	"github.com/portmake/portmake/alpm"
	"github.com/portmake/portmake/alpm/syncdb"
)

func TestFormatDesc(t *testing.T) {
	tests := []struct {
		name string
		p    alpm.Package
		want string
	}{
		{
			name: "minimal: numbers are always written, empty strings never",
			p:    alpm.Package{Filename: "x-1-1-any.pkg.tar.zst", Name: "x", Base: "x", Version: "1-1"},
			want: "%FILENAME%\nx-1-1-any.pkg.tar.zst\n\n%NAME%\nx\n\n%BASE%\nx\n\n%VERSION%\n1-1\n\n" +
				"%CSIZE%\n0\n\n%ISIZE%\n0\n\n%BUILDDATE%\n0\n\n",
		},
		{
			name: "every field, in repo-add's order",
			p: alpm.Package{
				Filename: "a-2:1.0-3-x86_64.pkg.tar.zst", Name: "a", Base: "b", Version: "2:1.0-3", Desc: "d",
				Groups: []string{"g1", "g2"}, CSize: 10, ISize: 20, MD5Sum: "m", SHA256Sum: "s", PGPSig: "p",
				URL: "u", License: []string{"MIT"}, Arch: "x86_64", BuildDate: 30, Packager: "P <p@x>",
				Replaces: []string{"r"}, Conflicts: []string{"c"}, Provides: []string{"v=1"},
				Depends: []string{"d1", "d2>=1"}, OptDepends: []string{"o: why"}, MakeDepends: []string{"m"},
				CheckDepends: []string{"c"},
				Data:         []string{"pkgtype=pkg"}, Files: []string{"usr/"},
				Extra: []alpm.Field{{Key: "UNKNOWN", Values: []string{"x"}}},
			},
			want: "%FILENAME%\na-2:1.0-3-x86_64.pkg.tar.zst\n\n%NAME%\na\n\n%BASE%\nb\n\n%VERSION%\n2:1.0-3\n\n" +
				"%DESC%\nd\n\n%GROUPS%\ng1\ng2\n\n%CSIZE%\n10\n\n%ISIZE%\n20\n\n%MD5SUM%\nm\n\n%SHA256SUM%\ns\n\n" +
				"%PGPSIG%\np\n\n%URL%\nu\n\n%LICENSE%\nMIT\n\n%ARCH%\nx86_64\n\n%BUILDDATE%\n30\n\n" +
				"%PACKAGER%\nP <p@x>\n\n%REPLACES%\nr\n\n%CONFLICTS%\nc\n\n%PROVIDES%\nv=1\n\n" +
				"%DEPENDS%\nd1\nd2>=1\n\n%OPTDEPENDS%\no: why\n\n%MAKEDEPENDS%\nm\n\n%CHECKDEPENDS%\nc\n\n",
		},
		{
			// format_entry tests only its first value.
			name: "a list whose first value is empty is left out",
			p:    alpm.Package{Name: "x", Version: "1-1", Depends: []string{"", "a"}, Groups: []string{"g", ""}},
			want: "%NAME%\nx\n\n%VERSION%\n1-1\n\n%GROUPS%\ng\n\n\n%CSIZE%\n0\n\n%ISIZE%\n0\n\n%BUILDDATE%\n0\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(syncdb.FormatDesc(&tt.p)); got != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestFormatDescReadsBack checks that the reader gets back what was written.
func TestFormatDescReadsBack(t *testing.T) {
	p := alpm.Package{
		Filename: "a-1-1-any.pkg.tar.zst", Name: "a", Base: "a", Version: "1-1", Desc: "d",
		CSize: 1, ISize: 2, MD5Sum: "m", SHA256Sum: "s", Arch: "any", BuildDate: 3,
		Depends: []string{"b>=1"}, OptDepends: []string{"c: for d"}, Provides: []string{"e=1"},
	}
	var got alpm.Package
	if err := syncdb.ParseDesc(syncdb.FormatDesc(&p), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != p.Name || got.Version != p.Version || got.CSize != 1 || got.ISize != 2 || got.BuildDate != 3 ||
		len(got.Depends) != 1 || got.Depends[0] != "b>=1" || got.OptDepends[0] != "c: for d" {
		t.Fatalf("read back %+v", got)
	}
}

func TestFormatFiles(t *testing.T) {
	if got := string(syncdb.FormatFiles(&alpm.Package{})); got != "%FILES%\n" {
		t.Fatalf("no files: %q", got)
	}
	p := alpm.Package{Files: []string{"usr/", "usr/bin/", "usr/bin/x"}}
	if got := string(syncdb.FormatFiles(&p)); got != "%FILES%\nusr/\nusr/bin/\nusr/bin/x\n" {
		t.Fatalf("files: %q", got)
	}
}

func BenchmarkFormatDesc(b *testing.B) {
	p := &alpm.Package{
		Filename: "python-numpy-1:2.1.3-1-x86_64.pkg.tar.zst", Name: "python-numpy", Base: "python-numpy",
		Version: "1:2.1.3-1", Desc: "Scientific tools for Python", CSize: 8234567, ISize: 45678901,
		MD5Sum: "5a26b3f9aec0bb164a10f51d4276c712", SHA256Sum: "e4057d1b7de70b83a7096b1bab24008eb9c1d68fb0d2b4d082e8288267e323f1",
		URL: "https://www.numpy.org/", License: []string{"BSD-3-Clause"}, Arch: "x86_64", BuildDate: 1732000000,
		Packager: "Some One <someone@archlinux.org>", Provides: []string{"python-numpy-mkl"},
		Depends:      []string{"blas", "cblas", "lapack", "python"},
		OptDepends:   []string{"blas-openblas: faster linear algebra"},
		MakeDepends:  []string{"cmake", "cython", "gcc-fortran", "meson-python", "python-build", "python-installer"},
		CheckDepends: []string{"python-hypothesis", "python-pytest"},
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = syncdb.FormatDesc(p)
	}
}
