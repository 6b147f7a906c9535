sources {
  packaging = "https://gitlab.archlinux.org/archlinux/packaging/packages/gcc.git"
}
