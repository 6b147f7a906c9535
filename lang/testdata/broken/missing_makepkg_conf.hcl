port {
  arch         = "aarch64"
  makepkg_conf = "chroot-config/makepkg-aarch64.conf"
}
