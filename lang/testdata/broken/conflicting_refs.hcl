package "gcc" {
  git    = "https://gitlab.archlinux.org/someone/gcc.git"
  branch = "aarch64"
  tag    = "14.2.1-1"
}
