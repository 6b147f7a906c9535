package sources

import (
	"strings"
	"testing"
)

func TestParseLsRemote(t *testing.T) {
	out := "575dd97f5780f9a7ba9887fa6d4af1c44f5139c2\trefs/tags/1-2.0-1\n" +
		"31fc4b6609be8d9c70b2f737c8ff30a88d63a490\trefs/tags/1-2.0-1^{}\n" +
		"31FC4B6609BE8D9C70B2F737C8FF30A88D63A490\trefs/tags/1.2-1\n" +
		"1111111111111111111111111111111111111111\trefs/tags/x/1.2-1\n"
	refs, err := parseLsRemote([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"refs/tags/1-2.0-1": "31fc4b6609be8d9c70b2f737c8ff30a88d63a490", // peeled wins
		"refs/tags/1.2-1":   "31fc4b6609be8d9c70b2f737c8ff30a88d63a490",
	} {
		if got, ok := refs.commit(ref); !ok || got != want {
			t.Errorf("commit(%s) = %q, %v; want %q", ref, got, ok, want)
		}
	}
	if c, ok := refs.commit("refs/tags/x"); ok {
		t.Errorf("commit(refs/tags/x) = %q", c)
	}
	for _, bad := range []string{
		"575dd97\trefs/tags/a\n",
		"575dd97f5780f9a7ba9887fa6d4af1c44f5139c2 refs/tags/a\n",
		"575dd97f5780f9a7ba9887fa6d4af1c44f5139c2\t\n",
		"zzzdd97f5780f9a7ba9887fa6d4af1c44f5139c2\trefs/tags/a\n",
		"fatal: not a repo\n",
	} {
		if _, err := parseLsRemote([]byte(bad)); err == nil {
			t.Errorf("parseLsRemote(%q) accepted", bad)
		}
	}
	if refs, err := parseLsRemote(nil); err != nil || len(refs) != 0 {
		t.Errorf("empty answer: %v, %v", refs, err)
	}
}

func FuzzParseLsRemote(f *testing.F) {
	f.Add("575dd97f5780f9a7ba9887fa6d4af1c44f5139c2\trefs/tags/1-2.0-1\n31fc4b6609be8d9c70b2f737c8ff30a88d63a490\trefs/tags/1-2.0-1^{}\n")
	f.Add("31fc4b6609be8d9c70b2f737c8ff30a88d63a490\tHEAD\r\n")
	f.Add("\n\n")
	f.Add("x\ty")
	f.Fuzz(func(t *testing.T, s string) {
		refs, err := parseLsRemote([]byte(s))
		if err != nil {
			return
		}
		for ref, obj := range refs {
			if !isFullHash(obj) || obj != strings.ToLower(obj) || ref == "" {
				t.Fatalf("parseLsRemote(%q) gave %q -> %q", s, ref, obj)
			}
		}
	})
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:secret@gitlab.example/x.git", "https://gitlab.example/x.git"},
		{"https://glpat-TOKEN@gitlab.example/x.git", "https://gitlab.example/x.git"},
		{"https://gitlab.example/x.git", "https://gitlab.example/x.git"},
		{"git@gitlab.example:x.git", "git@gitlab.example:x.git"},
		{"/srv/git/x.git", "/srv/git/x.git"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	msg := "fatal: unable to access 'https://user:secret@gitlab.example/x.git/': Could not resolve host"
	if got := redactText(msg); strings.Contains(got, "secret") || !strings.Contains(got, "https://gitlab.example/x.git/") {
		t.Errorf("redactText = %q", got)
	}
}

func TestIsLocalURL(t *testing.T) {
	for u, want := range map[string]bool{
		"/srv/x.git":              true,
		"./x.git":                 true,
		"file:///srv/x.git":       true,
		"https://host/x.git":      false,
		"ssh://git@host/x.git":    false,
		"git@host:x.git":          false,
		"relative/with:colon.git": true,
	} {
		if got := isLocalURL(u); got != want {
			t.Errorf("isLocalURL(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestCheckRefName(t *testing.T) {
	for _, ok := range []string{"main", "feature/x", "1.2-1", "1-2.0-1", "v1.0_rc"} {
		if err := checkRefName(ok); err != nil {
			t.Errorf("checkRefName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "--upload-pack=evil", "a..b", "a b", "a:b", "a~1", "a^", "x.lock", "/x", "x/", "a//b", "a@{1}", "a*", "a\x00"} {
		if err := checkRefName(bad); err == nil {
			t.Errorf("checkRefName(%q) accepted", bad)
		}
	}
}
