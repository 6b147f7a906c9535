# The offline portmake demo: an aarch64 "port" whose repositories are files
# in this directory, so every command of the quick start runs without a
# network. Run it from here, or with `portmake -C examples/demo ...`.

port {
  arch = "aarch64" # CARCH in chroot-config/makepkg.conf says the same
}

variable "repos" {
  description = "Root of the demo's repository trees."
  default     = "repos"
}

# Upstream is an x86_64 snapshot, the port has aarch64 trees. The port's
# trees are also where apply publishes (see publish below): the target a
# plan reads is the repository the port serves, so after an apply the next
# plan has nothing to do.
repo "core" {
  upstream = "${var.repos}/upstream/core/os/x86_64/core.db"
  target   = "${var.repos}/port/core/os/aarch64/core.db"
  publish  = "core"
}

repo "extra" {
  upstream = "${var.repos}/upstream/extra/os/x86_64/extra.db"
  target   = "${var.repos}/port/extra/os/aarch64/extra.db"
  publish  = "extra"
}

# Port-only packages: the local PKGBUILDs below.
repo "demo" {
  target  = "${var.repos}/port/demo/os/aarch64/demo.db"
  publish = "demo"
}

blacklist {
  file = "blacklist.txt"
}

local {
  path = "pkgbuilds" # hello-port, demo-split (a split package), demo-tools
  repo = "demo"
}

build {
  builder = "makepkg" # no devtools needed
  jobs    = 2
  logs    = "out/logs"
}

publish "dir" {
  path = "${var.repos}/port" # repos/port/<repo>/os/aarch64/, the target
}
