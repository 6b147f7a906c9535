package "gcc" {
  patches = ["patches/*.patch", "patches/gcc/*.patch"]
}
