repo "forge" {
  upstream_testing = "https://geo.mirror.pkgbuild.com/forge-testing/os/x86_64/forge-testing.db"
  target           = "https://arch.example.org/forge/os/aarch64/forge.db"
}
