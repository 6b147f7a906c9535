variable "mirror" {
  default = "https://geo.mirror.pkgbuild.com"
}

repo "core" {
  upstream = "${var.mirorr}/core/os/x86_64/core.db"
  target   = "https://arch.example.org/core/os/aarch64/core.db"
}
