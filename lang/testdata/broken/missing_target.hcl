repo "core" {
  upstream = "https://geo.mirror.pkgbuild.com/core/os/x86_64/core.db"
}
