package alpm

import "fmt"

// ValidName reports whether s is a valid package name per
// alpm-package-name(7): ASCII letters, digits and "@._+-", not empty and not
// starting with '-' or '.'. That rule also excludes "." and "..", and a name
// containing '/' can never pass, so a valid name is safe as a path element
// and as a command-line argument.
func ValidName(s string) bool {
	if s == "" || s[0] == '-' || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '@' || c == '.' || c == '_' || c == '+' || c == '-' {
			continue
		}
		return false
	}
	return true
}

// CheckName returns an error that says what is wrong with an invalid
// package name, or nil.
func CheckName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("invalid package name: empty")
	case s[0] == '-' || s[0] == '.':
		return fmt.Errorf("invalid package name %q: must not start with %q", s, s[0])
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || c == '@' || c == '.' || c == '_' || c == '+' || c == '-') {
			return fmt.Errorf("invalid package name %q: character %q is not allowed (only letters, digits and @._+-)", s, c)
		}
	}
	return nil
}
