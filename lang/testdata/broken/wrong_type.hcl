build {
  nocheck      = "sometimes"
  makepkg_args = ["--skippgpcheck", "nocheck"]
  bootstrap    = "gcc"
}
