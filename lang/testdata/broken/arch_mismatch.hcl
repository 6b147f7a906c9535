port {
  arch = "x86_64"
}
