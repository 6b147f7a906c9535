blacklist {
  patterns = ["linux*"]
}

package "linux-aarch64" {
  nocheck = true
}
