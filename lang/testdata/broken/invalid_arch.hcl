port {
  arch          = "aarch64"
  upstream_arch = "any"
}
