variable "port_mirror" {
  description = "Where the port is served."
}

repo "core" {
  target = "${var.port_mirror}/core/os/aarch64/core.db"
}
