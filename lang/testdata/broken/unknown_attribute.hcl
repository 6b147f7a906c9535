port {
  archh = "aarch64"
}
