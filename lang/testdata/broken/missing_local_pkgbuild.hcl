repo "forge" {
  target = "https://arch.example.org/forge/os/aarch64/forge.db"
}

local {
  path     = "pkgbuilds"
  packages = ["mytool", "othertool"]
  repo     = "forge"
}
