package "glibc" {
  commit = "HEAD~1"
}
